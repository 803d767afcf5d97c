"""Turns Spotify API models into ItemSummary, one rule per kind."""

from __future__ import annotations

from functools import singledispatch

from bot.services.items import ItemSummary, artists_line
from bot.spotify.ids import SpotifyKind
from bot.spotify.models import (
    Artist,
    Audiobook,
    Episode,
    Item,
    Show,
    SimpleAlbum,
    SimpleArtist,
    SimplePlaylist,
    SimpleTrack,
    Track,
)


def _minutes(duration_ms: int | None) -> str | None:
    if not duration_ms:
        return None
    minutes, seconds = divmod(round(duration_ms / 1000), 60)
    return f"{minutes}:{seconds:02d}"


@singledispatch
def summarize(item: Item) -> ItemSummary:
    raise TypeError(f"no summary for {type(item).__name__}")


@summarize.register
def _artist(item: SimpleArtist) -> ItemSummary:
    genres = item.genres[:3] if isinstance(item, Artist) and item.genres else None
    return ItemSummary(
        SpotifyKind.ARTIST,
        item.id,
        item.name,
        ", ".join(genres) if genres else None,
        item.image_url,
    )


@summarize.register
def _track(item: SimpleTrack) -> ItemSummary:
    byline = artists_line([a.name for a in item.artists])
    album = item.album.name if isinstance(item, Track) and item.album else None
    subtitle = " · ".join(part for part in (byline, album) if part) or None
    return ItemSummary(
        SpotifyKind.TRACK, item.id, item.name, subtitle, item.image_url, _minutes(item.duration_ms)
    )


@summarize.register
def _album(item: SimpleAlbum) -> ItemSummary:
    year = item.release_date[:4] if item.release_date else None
    return ItemSummary(
        SpotifyKind.ALBUM,
        item.id,
        item.name,
        artists_line([a.name for a in item.artists]),
        item.image_url,
        year,
    )


@summarize.register
def _playlist(item: SimplePlaylist) -> ItemSummary:
    owner = item.owner.display_name or item.owner.id if item.owner else None
    total = item.total_items
    return ItemSummary(
        SpotifyKind.PLAYLIST,
        item.id,
        item.name,
        f"by {owner}" if owner else None,
        item.image_url,
        None if total is None else f"{total} items",
    )


@summarize.register
def _show(item: Show) -> ItemSummary:
    return ItemSummary(SpotifyKind.SHOW, item.id, item.name, item.publisher, item.image_url)


@summarize.register
def _episode(item: Episode) -> ItemSummary:
    show = item.show.name if item.show else None
    detail = " · ".join(p for p in (_minutes(item.duration_ms), item.release_date) if p) or None
    return ItemSummary(SpotifyKind.EPISODE, item.id, item.name, show, item.image_url, detail)


@summarize.register
def _audiobook(item: Audiobook) -> ItemSummary:
    authors = artists_line([a.name for a in item.authors])
    narrators = artists_line([n.name for n in item.narrators])
    subtitle = " · ".join(
        p for p in (authors and f"by {authors}", narrators and f"read by {narrators}") if p
    )
    return ItemSummary(SpotifyKind.AUDIOBOOK, item.id, item.name, subtitle or None, item.image_url)
