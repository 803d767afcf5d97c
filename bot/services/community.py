"""Community statistics for one guild: leaderboards, who-knows, compatibility, recommendations.

Rankings and lookups only ever show members who are in the guild, visible there and actively
linked (see bot/store/scores.py, which keeps the per-guild scores they read).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import GuildMember, SpotifyLink
from bot.domain import (
    DEFAULT_TIME_RANGE,
    ItemKind,
    LinkBroken,
    LinkStatus,
    MemberHidden,
    MemberNotLinked,
    NotLinked,
    TimeRange,
)
from bot.services.items import ItemSummary
from bot.store import compat as compat_
from bot.store import leaderboard as leaderboard_
from bot.store import recommend as recommend_
from bot.store import whoknows as whoknows_
from bot.store.compat import Compat
from bot.store.leaderboard import Leaderboard
from bot.store.recommend import Recommendation
from bot.store.scores import rebuild_guild_scores
from bot.store.whoknows import AUTOCOMPLETE_LIMIT, WhoKnows


async def _require_linked(session: AsyncSession, discord_user_id: int) -> None:
    """The invoking member must have a working link."""
    link = await session.get(SpotifyLink, discord_user_id)
    if link is None:
        raise NotLinked()
    if link.status != LinkStatus.ACTIVE:
        raise LinkBroken(link.status)


async def _require_shown(session: AsyncSession, guild_id: int, discord_user_id: int) -> None:
    """Another member asked about must be linked and not hidden in this guild."""
    member = await session.get(GuildMember, (guild_id, discord_user_id))
    if member is not None and not member.visible:
        raise MemberHidden()
    link = await session.get(SpotifyLink, discord_user_id)
    if link is None or link.status != LinkStatus.ACTIVE:
        raise MemberNotLinked()


class CommunityService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def leaderboard(
        self,
        guild_id: int,
        kind: ItemKind,
        time_range: TimeRange,
        offset: int = 0,
        limit: int = 10,
    ) -> Leaderboard:
        async with self._sessions() as session:
            return await leaderboard_.leaderboard(
                session, guild_id, kind, time_range, offset, limit
            )

    async def who_knows(
        self,
        guild_id: int,
        artist_spotify_id: str,
        time_range: TimeRange,
        offset: int = 0,
        limit: int = 10,
    ) -> WhoKnows | None:
        async with self._sessions() as session:
            return await whoknows_.who_knows(
                session, guild_id, artist_spotify_id, time_range, offset, limit
            )

    async def known_artists(
        self, guild_id: int, prefix: str, limit: int = AUTOCOMPLETE_LIMIT
    ) -> list[ItemSummary]:
        async with self._sessions() as session:
            return await whoknows_.known_artists(session, guild_id, prefix, limit)

    async def compat(
        self, guild_id: int, user_a: int, user_b: int, time_range: TimeRange
    ) -> Compat:
        """`user_a` is the one asking (NotLinked / LinkBroken); `user_b` must be linked and
        visible here (MemberNotLinked / MemberHidden). NoListeningData: lists not stored yet."""
        async with self._sessions() as session:
            await _require_linked(session, user_a)
            if user_b != user_a:
                await _require_shown(session, guild_id, user_b)
            return await compat_.compat(session, user_a, user_b, time_range)

    async def recommend(
        self,
        guild_id: int,
        user_id: int,
        time_range: TimeRange = DEFAULT_TIME_RANGE,
        limit: int = recommend_.RECOMMEND_LIMIT,
        *,
        asked_by: int | None = None,
    ) -> list[Recommendation]:
        """For `user_id` (the one asking unless `asked_by` names someone else, in which case
        `user_id` must be linked and visible here). NoListeningData: lists not stored yet."""
        async with self._sessions() as session:
            if asked_by is None or asked_by == user_id:
                await _require_linked(session, user_id)
            else:
                await _require_shown(session, guild_id, user_id)
            return await recommend_.recommend(session, guild_id, user_id, time_range, limit)

    async def rebuild_guild_scores(self, guild_id: int) -> None:
        async with session_scope(self._sessions, shared_writes=True) as session:
            await rebuild_guild_scores(session, guild_id)
