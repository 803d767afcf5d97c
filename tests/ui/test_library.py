"""Top lists as shown: a stale stored list served because Spotify failed says how old it is."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import ItemKind, TimeRange
from bot.services.items import ItemSummary
from bot.services.top import TopList
from bot.spotify.ids import SpotifyKind
from bot.ui.library import top_source

FETCHED = datetime(2026, 3, 1, 12, tzinfo=UTC)


def top_list(*, spotify_failed: bool) -> TopList:
    items = [ItemSummary(SpotifyKind.ARTIST, f"id{i}", f"Artist {i}") for i in range(12)]
    return TopList(items, FETCHED, from_snapshot=True, spotify_failed=spotify_failed)


async def test_a_list_served_because_spotify_failed_says_how_old_it_is() -> None:
    source = top_source(ItemKind.ARTIST, top_list(spotify_failed=True), "Ana", TimeRange.SHORT)
    page = await source.page(0)
    assert (page.description or "").startswith(
        f"As of <t:{int(FETCHED.timestamp())}:R> — Spotify did not answer.\n\n1. [Artist 0]"
    )


async def test_a_fresh_or_stored_list_has_no_note() -> None:
    source = top_source(ItemKind.ARTIST, top_list(spotify_failed=False), "Ana", TimeRange.SHORT)
    page = await source.page(0)
    assert (page.description or "").startswith("1. [Artist 0]")
