"""The /chart reply: the collage attachment and the embed around it."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image

from bot.domain import TimeRange
from bot.services.charts import ChartTiles
from bot.services.items import ItemSummary
from bot.spotify.ids import SpotifyKind
from bot.ui.chart import CANVAS, chart_embed, chart_file
from bot.ui.items import ACCENT


def tiles(count: int, missing: int = 0) -> ChartTiles:
    items = [ItemSummary(SpotifyKind.ALBUM, f"id{i}", f"Album {i}") for i in range(count)]
    images: list[bytes | None] = [None] * missing + [b"not an image"] * (count - missing)
    return ChartTiles(items, images)


def test_the_embed_names_owner_subject_and_period_and_shows_the_attachment() -> None:
    embed = chart_embed("Chris", "albums", TimeRange.SHORT, tiles(9), 3)
    assert embed.title == "Chris' top albums · last 4 weeks"
    assert embed.colour == ACCENT
    assert embed.image.url == "attachment://chart.png"
    assert embed.footer.text is None


def test_the_footer_says_how_many_tiles_are_short_or_placeholders() -> None:
    assert chart_embed("A", "artists", TimeRange.LONG, tiles(5), 3).footer.text == (
        "5 of 9 tiles have art"
    )
    assert chart_embed("A", "albums", TimeRange.LONG, tiles(9, missing=2), 3).footer.text == (
        "2 cover(s) could not be fetched and show a placeholder"
    )


def test_names_are_escaped_in_the_title() -> None:
    embed = chart_embed("**@everyone**", "albums", TimeRange.MEDIUM, tiles(9), 3)
    assert embed.title is not None
    assert "**" not in embed.title.replace("\\*", "") and "@\u200beveryone" in embed.title


async def test_the_attachment_is_the_drawn_collage() -> None:
    attachment = await chart_file(tiles(3, missing=1), 3)
    assert attachment.filename == "chart.png"
    with Image.open(io.BytesIO(attachment.fp.read())) as image:
        assert image.format == "PNG"
        assert image.size == (CANVAS, CANVAS)


def test_a_chart_from_a_stale_list_says_how_old_it_is() -> None:
    fetched = datetime(2026, 3, 1, 12, tzinfo=UTC)
    stale = ChartTiles(tiles(9).items, tiles(9).images, stale_since=fetched)
    embed = chart_embed("A", "albums", TimeRange.SHORT, stale, 3)
    assert embed.description == (
        f"As of <t:{int(fetched.timestamp())}:R> — Spotify did not answer."
    )
    assert chart_embed("A", "albums", TimeRange.SHORT, tiles(9), 3).description is None
