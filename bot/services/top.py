"""A member's top artists and tracks: served from the stored snapshot while it is fresh, and
from an older one when Spotify does not answer.

Spotify has no top albums. A member's top albums over a range are read from their top 50
tracks (fetched, not stored: a snapshot keeps no albums): each track of rank r gives its album
51 - r points (the leaderboard's weights), so an album with several top tracks outranks one
with a single track of similar rank; ties go to the album of the better-ranked track.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.db.engine import Sessions, session_scope
from bot.domain import ItemKind, TimeRange
from bot.services.accounts import AccountService
from bot.services.items import ItemSummary
from bot.services.summaries import summarize
from bot.spotify.client import SpotifyUserApi
from bot.spotify.errors import QuotaExceeded, RateLimited, SpotifyUnavailable
from bot.store.snapshots import read_snapshot, replace_snapshot

log = logging.getLogger(__name__)

TOP_LIMIT = 50
SPOTIFY_DOWN = (SpotifyUnavailable, RateLimited, QuotaExceeded, TimeoutError)
"""Failures that say nothing about the member's link: a stored list may stand in."""


@dataclass(frozen=True)
class TopList:
    items: list[ItemSummary]
    fetched_at: datetime
    from_snapshot: bool
    spotify_failed: bool = False
    """A stale stored list, served because Spotify did not answer the refresh."""


def _now() -> datetime:
    return datetime.now(UTC)


async def fetch_top(
    api: SpotifyUserApi, kind: ItemKind, time_range: TimeRange
) -> list[ItemSummary]:
    period = time_range.api_name
    if kind is ItemKind.ARTIST:
        return [summarize(a) async for a in api.iter_top_artists(period, max_items=TOP_LIMIT)]
    return [summarize(t) async for t in api.iter_top_tracks(period, max_items=TOP_LIMIT)]


class TopService:
    def __init__(
        self,
        sessions: Sessions,
        accounts: AccountService,
        max_age: timedelta,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._sessions = sessions
        self._accounts = accounts
        self._max_age = max_age
        self._clock = clock

    async def stored(
        self, discord_user_id: int, kind: ItemKind, time_range: TimeRange
    ) -> TopList | None:
        async with self._sessions() as session:
            stored = await read_snapshot(session, discord_user_id, kind, time_range)
        if stored is None:
            return None
        return TopList(stored.items, stored.fetched_at, from_snapshot=True)

    async def top(self, discord_user_id: int, kind: ItemKind, time_range: TimeRange) -> TopList:
        """The stored list when younger than the configured age, else fetched and stored; an
        older stored list (marked `spotify_failed`) when Spotify fails to answer."""
        stored = await self.stored(discord_user_id, kind, time_range)
        if stored is not None and self._clock() - stored.fetched_at < self._max_age:
            return stored
        try:
            return await self.refresh(discord_user_id, kind, time_range, interactive=True)
        except SPOTIFY_DOWN as failure:
            if stored is None:
                raise
            log.info("serving a stored top list: Spotify failed (%s)", type(failure).__name__)
            return replace(stored, spotify_failed=True)

    async def top_albums(self, discord_user_id: int, time_range: TimeRange) -> TopList:
        """Albums of the member's top tracks, weighted as the module docstring says."""
        api = self._accounts.api(discord_user_id, interactive=True)
        points: dict[str, int] = {}
        albums: dict[str, ItemSummary] = {}
        rank = 0
        async for track in api.iter_top_tracks(time_range.api_name, max_items=TOP_LIMIT):
            rank += 1
            album = track.album
            if album is None or not album.id:
                continue
            albums.setdefault(album.id, summarize(album))
            points[album.id] = points.get(album.id, 0) + (TOP_LIMIT + 1 - rank)
        ordered = sorted(points, key=lambda album_id: -points[album_id])  # stable: first seen
        return TopList([albums[a] for a in ordered], self._clock(), from_snapshot=False)

    async def ensure(self, discord_user_id: int, time_range: TimeRange) -> None:
        """Make sure both top lists of a range are stored (any age), fetching what is missing."""
        for kind in (ItemKind.ARTIST, ItemKind.TRACK):
            if await self.stored(discord_user_id, kind, time_range) is None:
                await self.refresh(discord_user_id, kind, time_range, interactive=True)

    async def refresh(
        self, discord_user_id: int, kind: ItemKind, time_range: TimeRange, *, interactive: bool
    ) -> TopList:
        api = self._accounts.api(discord_user_id, interactive=interactive)
        items = await fetch_top(api, kind, time_range)
        now = self._clock()
        async with session_scope(self._sessions, shared_writes=True) as session:
            await replace_snapshot(session, discord_user_id, kind, time_range, items, now)
        return TopList(items, now, from_snapshot=False)
