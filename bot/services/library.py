"""A member's library: paged reads, save/follow through /me/library, and item lookup."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from bot.domain import InvalidInput
from bot.services.accounts import AccountService
from bot.services.items import ItemSummary
from bot.services.summaries import summarize
from bot.spotify.client import SpotifyUserApi
from bot.spotify.errors import Forbidden, NotFound
from bot.spotify.ids import SpotifyKind, SpotifyRef, looks_like_spotify_ref, parse_spotify_ref
from bot.spotify.models import (
    Item,
    Page,
    SavedAlbum,
    SavedAudiobook,
    SavedEpisode,
    SavedShow,
    SavedTrack,
    SimplePlaylist,
)

PAGE_SIZE = 10
FOLLOWING_LIMIT = 1000
SEARCH_CACHE_SECONDS = 60.0
SEARCH_CACHE_SIZE = 512

E = TypeVar("E", bound=BaseModel)

SEARCH_TYPES = {
    SpotifyKind.TRACK: "track",
    SpotifyKind.ALBUM: "album",
    SpotifyKind.ARTIST: "artist",
    SpotifyKind.PLAYLIST: "playlist",
    SpotifyKind.SHOW: "show",
    SpotifyKind.EPISODE: "episode",
    SpotifyKind.AUDIOBOOK: "audiobook",
}


@dataclass(frozen=True)
class LibraryPage:
    items: list[ItemSummary]
    total: int
    offset: int


@dataclass(frozen=True)
class LibraryChange:
    item: ItemSummary
    changed: bool  # False: it already was (or was not) in the library


def _with_detail(summary: ItemSummary, detail: str) -> ItemSummary:
    merged = " · ".join(p for p in (summary.detail, detail) if p)
    return ItemSummary(
        summary.kind, summary.id, summary.name, summary.subtitle, summary.image_url, merged
    )


def _dated(item: Item, added_at: datetime) -> ItemSummary:
    return _with_detail(summarize(item), f"added {added_at:%Y-%m-%d}")


@dataclass(frozen=True)
class SavedList(Generic[E]):
    """How one library list is read: its API call (limit, offset), and one entry's summary."""

    read: Callable[[SpotifyUserApi, int, int], Awaitable[Page[E]]]
    summary: Callable[[E], ItemSummary]

    async def page(self, api: SpotifyUserApi, offset: int, limit: int) -> LibraryPage:
        page = await self.read(api, limit, offset)
        return LibraryPage([self.summary(entry) for entry in page.items], page.total, offset)


SAVED_LISTS: dict[str, SavedList[Any]] = {
    "tracks": SavedList[SavedTrack](
        SpotifyUserApi.saved_tracks, lambda entry: _dated(entry.track, entry.added_at)
    ),
    "albums": SavedList[SavedAlbum](
        SpotifyUserApi.saved_albums, lambda entry: _dated(entry.album, entry.added_at)
    ),
    "shows": SavedList[SavedShow](
        SpotifyUserApi.saved_shows, lambda entry: _dated(entry.show, entry.added_at)
    ),
    "episodes": SavedList[SavedEpisode](
        SpotifyUserApi.saved_episodes, lambda entry: _dated(entry.episode, entry.added_at)
    ),
    "audiobooks": SavedList[SavedAudiobook](
        SpotifyUserApi.saved_audiobooks, lambda entry: _dated(entry.audiobook, entry.added_at)
    ),
    "playlists": SavedList[SimplePlaylist](SpotifyUserApi.my_playlists, summarize),
}
"""The lists /saved and /playlists show; playlists have no date added."""


class SearchCache:
    """Recent search results per (kinds, text), so autocomplete keystrokes rarely hit Spotify."""

    def __init__(self, ttl: float = SEARCH_CACHE_SECONDS, size: int = SEARCH_CACHE_SIZE) -> None:
        self._ttl, self._size = ttl, size
        self._entries: dict[tuple[tuple[str, ...], str], tuple[float, list[ItemSummary]]] = {}

    def get(self, key: tuple[tuple[str, ...], str]) -> list[ItemSummary] | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] > self._ttl:
            return None
        return entry[1]

    def put(self, key: tuple[tuple[str, ...], str], items: list[ItemSummary]) -> None:
        if len(self._entries) >= self._size:
            oldest = min(self._entries, key=lambda k: self._entries[k][0])
            del self._entries[oldest]
        self._entries[key] = (time.monotonic(), items)


class LibraryService:
    def __init__(self, accounts: AccountService) -> None:
        self._accounts = accounts
        self._search_cache = SearchCache()

    async def saved_page(
        self, discord_user_id: int, what: str, offset: int, limit: int = PAGE_SIZE
    ) -> LibraryPage:
        api = self._accounts.api(discord_user_id)
        return await SAVED_LISTS[what].page(api, offset, limit)

    async def following(self, discord_user_id: int) -> list[ItemSummary]:
        api = self._accounts.api(discord_user_id)
        return [summarize(a) async for a in api.iter_followed_artists(max_items=FOLLOWING_LIMIT)]

    async def search(
        self, discord_user_id: int, text: str, kinds: Collection[SpotifyKind], limit: int = 10
    ) -> list[ItemSummary]:
        types = tuple(SEARCH_TYPES[k] for k in kinds if k in SEARCH_TYPES)
        key = (types, text.strip().casefold())
        cached = self._search_cache.get(key)
        if cached is not None:
            return cached
        api = self._accounts.api(discord_user_id)
        results = await api.search(text.strip(), types, limit=min(limit, 10))
        found: list[ItemSummary] = []
        for page in (
            results.tracks,
            results.albums,
            results.artists,
            results.playlists,
            results.shows,
            results.episodes,
            results.audiobooks,
        ):
            if page is not None:
                found.extend(summarize(item) for item in page.items if item is not None)
        self._search_cache.put(key, found)
        return found

    async def resolve(
        self,
        discord_user_id: int,
        text: str,
        kinds: Collection[SpotifyKind],
        bare_id_kind: SpotifyKind,
    ) -> SpotifyRef:
        """A link, URI or ID of an accepted kind; otherwise the best search match."""
        text = text.strip()
        if not text:
            raise InvalidInput("Give a Spotify link, URI, ID or something to search for.")
        if looks_like_spotify_ref(text):
            return parse_spotify_ref(text, kinds, bare_id_kind)
        searchable = [k for k in kinds if k in SEARCH_TYPES]
        found = await self.search(discord_user_id, text, searchable)
        if not found:
            raise InvalidInput(f"Nothing on Spotify matches “{text[:80]}”.")
        return found[0].ref

    async def describe(self, discord_user_id: int, ref: SpotifyRef) -> ItemSummary:
        api = self._accounts.api(discord_user_id)
        fetchers: dict[SpotifyKind, Callable[[str], Awaitable[Any]]] = {
            SpotifyKind.TRACK: api.track,
            SpotifyKind.ALBUM: api.album,
            SpotifyKind.ARTIST: api.artist,
            SpotifyKind.PLAYLIST: api.playlist,
            SpotifyKind.SHOW: api.show,
            SpotifyKind.EPISODE: api.episode,
            SpotifyKind.AUDIOBOOK: api.audiobook,
        }
        fetch = fetchers.get(ref.kind)
        if fetch is None:
            return ItemSummary(ref.kind, ref.id, f"Spotify user {ref.id}")
        try:
            return summarize(await fetch(ref.id))
        except (Forbidden, NotFound):
            if ref.kind is not SpotifyKind.PLAYLIST:
                raise
            # Development-Mode apps cannot read other people's playlists; following works.
            return ItemSummary(ref.kind, ref.id, "Spotify playlist")

    async def change(self, discord_user_id: int, ref: SpotifyRef, *, add: bool) -> LibraryChange:
        """Save/follow (add) or remove/unfollow one item; says whether anything changed."""
        api = self._accounts.api(discord_user_id)
        item, (present,) = await asyncio.gather(
            self.describe(discord_user_id, ref), api.contains([ref.uri])
        )
        if present == add:
            return LibraryChange(item, changed=False)
        if add:
            await api.save([ref.uri])
        else:
            await api.remove([ref.uri])
        return LibraryChange(item, changed=True)
