"""Picks what a /chart collage shows: top artists, or the covers of the albums of top tracks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain import ItemKind, TimeRange
from bot.services.artwork import ArtworkFetcher
from bot.services.items import ItemSummary
from bot.services.top import TopService


@dataclass(frozen=True)
class ChartTiles:
    items: list[ItemSummary]
    images: list[bytes | None]
    stale_since: datetime | None = None
    """When the tiles' stored list was fetched, if it was served because Spotify failed."""


def distinct_covers(tracks: list[ItemSummary], count: int) -> list[ItemSummary]:
    """One track per album cover, best rank first (tracks of one album share its art)."""
    seen: set[str] = set()
    picked: list[ItemSummary] = []
    for track in tracks:
        key = track.image_url or track.id
        if key not in seen:
            seen.add(key)
            picked.append(track)
        if len(picked) == count:
            break
    return picked


class ChartService:
    def __init__(self, top: TopService, artwork: ArtworkFetcher) -> None:
        self._top = top
        self._artwork = artwork

    async def tiles(
        self, discord_user_id: int, *, albums: bool, time_range: TimeRange, count: int
    ) -> ChartTiles:
        if albums:
            top = await self._top.top(discord_user_id, ItemKind.TRACK, time_range)
            items = distinct_covers(top.items, count)
        else:
            top = await self._top.top(discord_user_id, ItemKind.ARTIST, time_range)
            items = top.items[:count]
        images = await self._artwork.fetch_all([item.image_url for item in items])
        return ChartTiles(items, images, top.fetched_at if top.spotify_failed else None)
