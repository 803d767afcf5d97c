"""A small guild world for the community tests, changed the way the bot changes it.

Every change calls the score hooks exactly where bot/store/scores.py says the bot must.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import (
    Base,
    GuildBoardSize,
    GuildItemScore,
    GuildMember,
    GuildScoreMember,
    SpotifyLink,
)
from bot.domain import ItemKind, LinkStatus, TimeRange
from bot.services.items import ItemSummary
from bot.spotify.ids import SpotifyKind
from bot.store import visibility
from bot.store.member_data import remove_member_data
from bot.store.scores import forget_guild, forget_member, rebuild_guild_scores, sync_members
from bot.store.snapshots import replace_snapshot

GUILD = 1
OTHER_GUILD = 2
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
MEDIUM = TimeRange.MEDIUM


def artist(n: int, name: str | None = None) -> ItemSummary:
    return ItemSummary(SpotifyKind.ARTIST, f"ar{n:020d}", name or f"Artist {n:03d}")


def track(n: int, name: str | None = None) -> ItemSummary:
    return ItemSummary(SpotifyKind.TRACK, f"tr{n:020d}", name or f"Track {n:03d}", "by someone")


class World:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def link(self, user: int, status: LinkStatus = LinkStatus.ACTIVE) -> None:
        async with session_scope(self.sessions) as session:
            session.add(
                SpotifyLink(
                    discord_user_id=user,
                    spotify_account_id=f"account{user}",
                    spotify_user_id=f"user{user}",
                    access_token_enc=b"-",
                    refresh_token_enc=b"-",
                    access_expires_at=NOW,
                    scopes="user-top-read",
                    authorized_at=NOW,
                    linked_at=NOW,
                    status=status,
                )
            )

    async def join(self, user: int, guild: int = GUILD, *, visible: bool | None = None) -> None:
        """`visible`: make that /privacy choice there first (None: keep any earlier one)."""
        async with session_scope(self.sessions) as session:
            if visible is not None:
                await visibility.set_visible(session, guild, user, visible, NOW)
            if await session.get(GuildMember, (guild, user)) is None:
                session.add(GuildMember(guild_id=guild, discord_user_id=user, seen_at=NOW))
            await sync_members(session, [user], guild)

    async def set_visible(self, user: int, visible: bool, guild: int = GUILD) -> None:
        async with session_scope(self.sessions) as session:
            await visibility.set_visible(session, guild, user, visible, NOW)
            await sync_members(session, [user], guild)

    async def set_status(self, user: int, status: LinkStatus) -> None:
        async with session_scope(self.sessions) as session:
            await session.execute(
                update(SpotifyLink).where(SpotifyLink.discord_user_id == user).values(status=status)
            )
            await sync_members(session, [user])

    async def leave(self, user: int, guild: int = GUILD) -> None:
        async with session_scope(self.sessions) as session:
            await forget_member(session, user, guild)
            await session.execute(
                delete(GuildMember).where(
                    GuildMember.guild_id == guild, GuildMember.discord_user_id == user
                )
            )

    async def unlink(self, user: int) -> None:
        async with session_scope(self.sessions) as session:
            await forget_member(session, user)
            await remove_member_data(session, user)

    async def remove_guild(self, guild: int) -> None:
        async with session_scope(self.sessions) as session:
            await forget_guild(session, guild)
            await session.execute(delete(GuildMember).where(GuildMember.guild_id == guild))

    async def set_list(
        self,
        user: int,
        items: Sequence[ItemSummary],
        time_range: TimeRange = TimeRange.MEDIUM,
        *,
        kind: ItemKind | None = None,
        at: datetime = NOW,
    ) -> None:
        if kind is None:
            kind = (
                ItemKind.TRACK if items and items[0].kind is SpotifyKind.TRACK else ItemKind.ARTIST
            )
        async with session_scope(self.sessions) as session:
            await replace_snapshot(session, user, kind, time_range, items, at)

    async def member(
        self,
        user: int,
        artists: Sequence[ItemSummary] = (),
        tracks: Sequence[ItemSummary] = (),
        *,
        guild: int = GUILD,
        time_range: TimeRange = TimeRange.MEDIUM,
        at: datetime = NOW,
    ) -> None:
        """A linked, visible member of `guild` with these lists."""
        await self.link(user)
        await self.join(user, guild)
        if artists:
            await self.set_list(user, artists, time_range, kind=ItemKind.ARTIST, at=at)
        if tracks:
            await self.set_list(user, tracks, time_range, kind=ItemKind.TRACK, at=at)


async def score_rows(session: AsyncSession) -> tuple[list[Any], list[Any], list[Any]]:
    """Everything the scores hold, in a stable order, for comparing two states."""
    counted = await session.execute(
        select(GuildScoreMember.__table__).order_by(*GuildScoreMember.__table__.primary_key)
    )
    scored = await session.execute(
        select(GuildItemScore.__table__).order_by(*GuildItemScore.__table__.primary_key)
    )
    sizes = await session.execute(
        select(GuildBoardSize.__table__).order_by(*GuildBoardSize.__table__.primary_key)
    )
    return (
        [tuple(row) for row in counted],
        [tuple(row) for row in scored],
        [tuple(row) for row in sizes],
    )


async def clear_all(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessions) as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))


async def rebuilt(session: AsyncSession) -> tuple[list[object], list[object], list[object]]:
    for guild in (GUILD, OTHER_GUILD):
        await rebuild_guild_scores(session, guild)
    await session.flush()
    return await score_rows(session)


async def assert_matches_rebuild(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessions) as session:
        incremental = await score_rows(session)
        assert incremental == await rebuilt(session)
