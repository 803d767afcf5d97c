"""Guild memberships: who was seen in which guild (choices to hide are in store/visibility.py).

Every write here calls the guild-score hook bot/store/scores.py asks for; take
`lock_shared_writes` first (`session_scope(shared_writes=True)`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import upsert_insert
from bot.db.models import GuildMember
from bot.store.scores import forget_guild, forget_member, sync_members


async def recorded_among(
    session: AsyncSession, guild_id: int, discord_user_ids: Collection[int]
) -> set[int]:
    """Those of `discord_user_ids` recorded as members of the guild."""
    rows = await session.scalars(
        select(GuildMember.discord_user_id).where(
            GuildMember.guild_id == guild_id,
            GuildMember.discord_user_id.in_(discord_user_ids),
        )
    )
    return set(rows)


async def record_members(
    session: AsyncSession, guild_id: int, discord_user_ids: Collection[int], now: datetime
) -> None:
    """Record the members as seen in the guild now (their visibility choices stay as they are)."""
    if not discord_user_ids:
        return
    rows = [
        {"guild_id": guild_id, "discord_user_id": uid, "seen_at": now} for uid in discord_user_ids
    ]
    stmt = upsert_insert(session)(GuildMember).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["guild_id", "discord_user_id"],
            set_={"seen_at": stmt.excluded.seen_at},
        )
    )
    await sync_members(session, discord_user_ids, guild_id)


async def remove_membership(session: AsyncSession, guild_id: int, discord_user_id: int) -> None:
    await forget_member(session, discord_user_id, guild_id)
    await session.execute(
        delete(GuildMember).where(
            GuildMember.guild_id == guild_id,
            GuildMember.discord_user_id == discord_user_id,
        )
    )


async def remove_guild(session: AsyncSession, guild_id: int) -> None:
    await forget_guild(session, guild_id)
    await session.execute(delete(GuildMember).where(GuildMember.guild_id == guild_id))
