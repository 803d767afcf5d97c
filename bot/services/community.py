"""Community use cases for one guild: leaderboards, who-knows, compatibility, recommendations.

Rankings and lookups only ever show members who are in the guild, visible there and actively
linked (see bot/store/scores.py, which keeps the per-guild scores they read). Compatibility
and recommendations are about particular members: they take `Subject`s, which only the access
rule (bot/services/access.py) hands out, make sure the lists they compare are stored, and read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.db.engine import Sessions, session_scope
from bot.domain import DEFAULT_TIME_RANGE, ItemKind, Period, TimeRange
from bot.services.access import Subject
from bot.services.items import ItemSummary
from bot.store import compat, leaderboard, recommend, whoknows
from bot.store.compat import Compat
from bot.store.leaderboard import Leaderboard
from bot.store.play_recommend import recommend_by_plays
from bot.store.plays import has_plays_since
from bot.store.recommend import RECOMMEND_LIMIT, Recommendation
from bot.store.scores import rebuild_guild_scores
from bot.store.whoknows import AUTOCOMPLETE_LIMIT, WhoKnows


class TopLists(Protocol):
    """Where members' top lists come from (TopService)."""

    async def ensure(self, discord_user_id: int, time_range: TimeRange) -> None: ...


class CommunityService:
    def __init__(self, sessions: Sessions, lists: TopLists) -> None:
        self._sessions = sessions
        self._lists = lists

    async def leaderboard(
        self,
        guild_id: int,
        kind: ItemKind,
        time_range: TimeRange,
        offset: int = 0,
        limit: int = 10,
    ) -> Leaderboard:
        async with self._sessions() as session:
            return await leaderboard.leaderboard(session, guild_id, kind, time_range, offset, limit)

    async def who_knows(
        self,
        guild_id: int,
        artist_spotify_id: str,
        time_range: TimeRange,
        offset: int = 0,
        limit: int = 10,
        kind: ItemKind = ItemKind.ARTIST,
    ) -> WhoKnows | None:
        async with self._sessions() as session:
            return await whoknows.who_knows(
                session, guild_id, artist_spotify_id, time_range, offset, limit, kind
            )

    async def known_artists(
        self,
        guild_id: int,
        prefix: str,
        limit: int = AUTOCOMPLETE_LIMIT,
        kind: ItemKind = ItemKind.ARTIST,
    ) -> list[ItemSummary]:
        async with self._sessions() as session:
            return await whoknows.known_artists(session, guild_id, prefix, limit, kind)

    async def compat(self, subject: Subject, time_range: TimeRange) -> Compat:
        """How alike the tastes of the one asking and `subject` are (checked with
        `invoker_linked=True`), their lists fetched first when not stored.
        NoListeningData: a member's lists could not be stored."""
        pair = (subject.invoker_id, subject.discord_user_id)
        for discord_user_id in pair:
            await self._lists.ensure(discord_user_id, time_range)
        async with self._sessions() as session:
            return await compat.compat(session, *pair, time_range)

    async def recommend(
        self,
        guild_id: int,
        subject: Subject,
        time_range: TimeRange = DEFAULT_TIME_RANGE,
        limit: int = RECOMMEND_LIMIT,
    ) -> list[Recommendation]:
        """Picks for `subject` from this guild's listening: from plays of the last 30 days when
        they have some and the server's plays give picks (bot/store/play_recommend.py), else
        from top lists, fetched first when not stored. NoListeningData: their lists could not
        be stored."""
        async with self._sessions() as session:
            if await has_plays_since(
                session, [subject.discord_user_id], datetime.now(UTC) - timedelta(days=30)
            ):
                picks = await recommend_by_plays(
                    session, guild_id, subject.discord_user_id, Period.MONTH, limit
                )
                if picks:
                    return picks
        await self._lists.ensure(subject.discord_user_id, time_range)
        async with self._sessions() as session:
            return await recommend.recommend(
                session, guild_id, subject.discord_user_id, time_range, limit
            )

    async def rebuild_guild_scores(self, guild_id: int) -> None:
        async with session_scope(self._sessions, shared_writes=True) as session:
            await rebuild_guild_scores(session, guild_id)
