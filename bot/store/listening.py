"""Reads for /nowplaying that join plays with a guild's members."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GuildMember, PlayTotal
from bot.domain import ItemKind
from bot.store.visibility import shown_in


async def members_who_played(
    session: AsyncSession, guild_id: int, kind: ItemKind, item_id: int
) -> int:
    """How many current, visible members of the guild ever played the item."""
    count = await session.scalar(
        select(func.count())
        .select_from(PlayTotal)
        .join(
            GuildMember,
            (GuildMember.discord_user_id == PlayTotal.discord_user_id)
            & (GuildMember.guild_id == guild_id),
        )
        .where(
            PlayTotal.kind == int(kind),
            PlayTotal.item_id == item_id,
            PlayTotal.plays > 0,
            shown_in(guild_id, PlayTotal.discord_user_id),
        )
    )
    return int(count or 0)
