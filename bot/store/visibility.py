"""Members' /privacy choices, one per guild (see `MemberVisibility`): visible unless hidden."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ColumnExpressionArgument, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import upsert_insert
from bot.db.models import MemberVisibility


def shown_in(
    guild_id: ColumnExpressionArgument[int] | int,
    discord_user_id: ColumnExpressionArgument[int] | int,
) -> ColumnElement[bool]:
    """True where the member (a column or a value) has not hidden themselves in the guild."""
    return ~exists().where(
        MemberVisibility.guild_id == guild_id,
        MemberVisibility.discord_user_id == discord_user_id,
        MemberVisibility.visible.is_(False),
    )


async def is_visible(session: AsyncSession, guild_id: int, discord_user_id: int) -> bool:
    visible = await session.scalar(
        select(MemberVisibility.visible).where(
            MemberVisibility.guild_id == guild_id,
            MemberVisibility.discord_user_id == discord_user_id,
        )
    )
    return True if visible is None else visible


async def set_visible(
    session: AsyncSession, guild_id: int, discord_user_id: int, visible: bool, at: datetime
) -> None:
    """Record the member's choice (callers then run `scores.sync_members`)."""
    insert = upsert_insert(session)
    stmt = insert(MemberVisibility).values(
        guild_id=guild_id, discord_user_id=discord_user_id, visible=visible, chosen_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["guild_id", "discord_user_id"],
            set_={"visible": stmt.excluded.visible, "chosen_at": stmt.excluded.chosen_at},
        )
    )


async def forget_choices(session: AsyncSession, discord_user_id: int) -> None:
    """Drop every choice of the member (when they ask Encore to forget them)."""
    await session.execute(
        delete(MemberVisibility).where(MemberVisibility.discord_user_id == discord_user_id)
    )


async def hidden_pairs(session: AsyncSession) -> set[tuple[int, int]]:
    """Every (guild, member) where the member hid themselves: few rows, read whole."""
    rows = await session.execute(
        select(MemberVisibility.guild_id, MemberVisibility.discord_user_id).where(
            MemberVisibility.visible.is_(False)
        )
    )
    return {(guild_id, user_id) for guild_id, user_id in rows}
