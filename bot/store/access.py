"""What the access rule (bot/services/access.py) reads about a member, in one round trip."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GuildMember, SpotifyLink
from bot.domain import LinkStatus
from bot.store.visibility import shown_in


@dataclass(frozen=True)
class StoredMember:
    """What Encore holds about a member in one guild."""

    recorded: bool  # a stored membership of the guild
    visible: bool  # not hidden there by their own choice
    link: LinkStatus | None  # None: never linked


async def stored_member(session: AsyncSession, guild_id: int, discord_user_id: int) -> StoredMember:
    row = (
        await session.execute(
            select(
                exists().where(
                    GuildMember.guild_id == guild_id,
                    GuildMember.discord_user_id == discord_user_id,
                ),
                shown_in(guild_id, discord_user_id),
                select(SpotifyLink.status)
                .where(SpotifyLink.discord_user_id == discord_user_id)
                .scalar_subquery(),
            )
        )
    ).one()
    return StoredMember(recorded=bool(row[0]), visible=bool(row[1]), link=row[2])


async def link_status(session: AsyncSession, discord_user_id: int) -> LinkStatus | None:
    status: LinkStatus | None = await session.scalar(
        select(SpotifyLink.status).where(SpotifyLink.discord_user_id == discord_user_id)
    )
    return status
