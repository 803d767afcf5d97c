"""The /chart reply: a grid of cover art drawn with Pillow in a worker thread, and its embed.

Pillow (about 4 MB resident) is imported by the first chart drawn, not when the bot starts.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence

import discord

from bot.domain import TimeRange
from bot.services.charts import ChartTiles
from bot.ui.items import ACCENT
from bot.ui.library import possessive, stale_note
from bot.ui.text import escape
from bot.ui.tiles import PLACEHOLDER, cover_tile

CANVAS = 900
GRID_SIZES = {"3x3": 3, "4x4": 4, "5x5": 5}
CHART_FILE = "chart.png"


def render_collage(images: Sequence[bytes | None], labels: Sequence[str], grid: int) -> bytes:
    """A `grid` x `grid` PNG; missing or broken art becomes a placeholder tile."""
    from PIL import Image

    size = CANVAS // grid
    canvas = Image.new("RGB", (size * grid, size * grid), PLACEHOLDER)
    for index in range(grid * grid):
        data = images[index] if index < len(images) else None
        label = labels[index] if index < len(labels) else ""
        row, column = divmod(index, grid)
        canvas.paste(cover_tile(data, size, label), (column * size, row * size))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def chart_file(tiles: ChartTiles, grid: int) -> discord.File:
    """The collage as an attachment, drawn off the event loop."""
    png = await asyncio.to_thread(
        render_collage, tiles.images, [item.name for item in tiles.items], grid
    )
    return discord.File(io.BytesIO(png), filename=CHART_FILE)


def chart_embed(
    owner_name: str, subject: str, time_range: TimeRange, tiles: ChartTiles, grid: int
) -> discord.Embed:
    """The embed around the collage; the footer says when tiles are missing or placeholders."""
    title = f"{possessive(owner_name)} top {subject} · {time_range.words}"
    embed = discord.Embed(title=escape(title), colour=ACCENT)
    embed.set_image(url=f"attachment://{CHART_FILE}")
    if tiles.stale_since is not None:
        embed.description = stale_note(tiles.stale_since)
    missing = sum(1 for image in tiles.images if image is None)
    if missing:
        embed.set_footer(text=f"{missing} cover(s) could not be fetched and show a placeholder")
    elif len(tiles.items) < grid * grid:
        embed.set_footer(text=f"{len(tiles.items)} of {grid * grid} tiles have art")
    return embed
