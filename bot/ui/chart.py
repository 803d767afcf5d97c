"""The /chart collage: a grid of cover art drawn with Pillow (call it in a worker thread).

Pillow (about 4 MB resident) is imported by the first chart drawn, not when the bot starts.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

CANVAS = 900
PLACEHOLDER = (40, 40, 40)
PLACEHOLDER_MARK = (110, 110, 110)
GRID_SIZES = {"3x3": 3, "4x4": 4, "5x5": 5}


def _placeholder(size: int, label: str) -> Image.Image:
    from PIL import Image, ImageDraw, ImageFont

    tile = Image.new("RGB", (size, size), PLACEHOLDER)
    draw = ImageDraw.Draw(tile)
    letter = (label.strip()[:1] or "♪").upper()
    font = ImageFont.load_default(size=size // 3)
    box = draw.textbbox((0, 0), letter, font=font)
    x = (size - (box[2] - box[0])) / 2 - box[0]
    y = (size - (box[3] - box[1])) / 2 - box[1]
    draw.text((x, y), letter, fill=PLACEHOLDER_MARK, font=font)
    return tile


def _tile(data: bytes | None, size: int, label: str) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    if data is None:
        return _placeholder(size, label)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (size, size))
            return image.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, ValueError):
        log.info("cover art is not a readable image; drawing a placeholder")
        return _placeholder(size, label)


def render_collage(images: Sequence[bytes | None], labels: Sequence[str], grid: int) -> bytes:
    """A `grid` x `grid` PNG; missing or broken art becomes a placeholder tile."""
    from PIL import Image

    size = CANVAS // grid
    canvas = Image.new("RGB", (size * grid, size * grid), PLACEHOLDER)
    for index in range(grid * grid):
        data = images[index] if index < len(images) else None
        label = labels[index] if index < len(labels) else ""
        row, column = divmod(index, grid)
        canvas.paste(_tile(data, size, label), (column * size, row * size))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()
