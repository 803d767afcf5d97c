"""The /wrapped card and its summary line, drawn from a Wrapped built by hand."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

from PIL import Image

from bot.domain import ItemKind, NotEnoughPlays
from bot.services.wrapped import Wrapped, WrappedArt
from bot.store.plays import PlayedItem
from bot.store.wrapped import BusiestWeekday, NewArtists, Streak, YearItem
from bot.ui.failures import describe_failure
from bot.ui.tiles import PLACEHOLDER
from bot.ui.wrapped import WRAPPED_FILE, wrapped_file, wrapped_summary
from bot.ui.wrapped_card import ART, ART_LEFT, LIST_HEADING, LISTS_TOP, MARGIN, ROW, WIDTH

RED = (220, 30, 30)


def entry(item_id: int, kind: ItemKind, name: str, plays: int) -> YearItem:
    return YearItem(PlayedItem(item_id, kind, None, name, "Someone", None), plays, plays * 1000)


def a_year(artists: int = 5) -> Wrapped:
    return Wrapped(
        discord_user_id=1,
        year=2026,
        plays=1234,
        ms_played=4321 * 60_000 + 59_999,
        top_artists=[entry(i, ItemKind.ARTIST, f"Artist {i}", 100 - i) for i in range(artists)],
        top_tracks=[entry(10 + i, ItemKind.TRACK, f"Track {i}", 50 - i) for i in range(5)],
        top_album=entry(20, ItemKind.ALBUM, "The Album", 40),
        streak=Streak(12, date(2026, 3, 1), date(2026, 3, 12)),
        busiest=BusiestWeekday(4, 300),
        new_artists=NewArtists(7, ["Artist 1", "Artist 3"]),
    )


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 300), colour).save(out, format="PNG")
    return out.getvalue()


def art_centre(rank: int) -> tuple[int, int]:
    """The middle of the art of the `rank`-th top artist (left column)."""
    return MARGIN + ART_LEFT + ART // 2, LISTS_TOP + LIST_HEADING + (rank - 1) * ROW + ART // 2


async def test_the_card_is_a_1080_wide_png_with_art_and_placeholders() -> None:
    art = WrappedArt(
        artists=[png(RED), None, b"not an image", png(RED), None],
        tracks=[None] * 5,
        album=None,
    )
    attachment = await wrapped_file("alice", a_year(), art)
    assert attachment.filename == WRAPPED_FILE
    with Image.open(io.BytesIO(attachment.fp.read())) as image:
        assert image.format == "PNG"
        assert image.size[0] == WIDTH == 1080
        pixels = image.convert("RGB")
        assert pixels.getpixel(art_centre(1)) == RED
        # a placeholder's middle holds its letter; its corner is the placeholder grey
        for rank in (2, 3):
            x, y = art_centre(rank)
            assert pixels.getpixel((x - ART // 3, y - ART // 6)) == PLACEHOLDER
        assert pixels.getpixel(art_centre(4)) == RED


async def test_a_short_year_and_long_names_still_draw() -> None:
    long_name = "A name far too long for any card " * 4
    short = replace(
        a_year(),
        top_artists=[entry(1, ItemKind.ARTIST, long_name, 60)],
        top_tracks=[],
        top_album=None,
        streak=None,
        busiest=None,
        new_artists=NewArtists(0, []),
    )
    attachment = await wrapped_file(long_name, short, WrappedArt([None], [], None))
    with Image.open(io.BytesIO(attachment.fp.read())) as image:
        assert image.size[0] == 1080


def test_the_summary_names_owner_numbers_and_top_artist_escaped() -> None:
    assert wrapped_summary("alice", a_year()) == (
        "**alice's 2026**: 1,234 plays · 4,321 minutes · top artist **Artist 0**"
    )
    tricky = replace(a_year(), top_artists=[entry(1, ItemKind.ARTIST, "*NSYNC @everyone", 9)])
    summary = wrapped_summary("James", tricky)
    assert summary.startswith("**James' 2026**")
    assert "\\*NSYNC @\u200beveryone" in summary


def test_not_enough_plays_says_how_many_and_how_to_get_more() -> None:
    assert describe_failure(NotEnoughPlays(2026, 12, 50)) == (
        "Only 12 plays are recorded for 2026; a wrapped needs at least 50. Plays come from "
        "Spotify status in Discord (where the server records it) and `/import`."
    )
    one = describe_failure(NotEnoughPlays(2025, 1, 50))
    assert one is not None and one.startswith("Only 1 play is recorded for 2025;")
    none = describe_failure(NotEnoughPlays(2024, 0, 50))
    assert none is not None and none.startswith("No plays are recorded for 2024;")
