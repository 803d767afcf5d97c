"""Square image tiles for cards drawn with Pillow: cover art scaled to size, or a placeholder
with the item's initial when the art is missing or unreadable."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

from bot.ui.fonts import Lettering

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

PLACEHOLDER = (40, 40, 40)
PLACEHOLDER_MARK = (110, 110, 110)
RESIZABLE = frozenset({"RGB", "RGBA", "L", "LA"})
"""Modes scaled before converting to RGB (cheaper on the small image); others (palette,
CMYK) are converted first, since Pillow scales a palette image by nearest neighbour only."""


def placeholder(size: int, label: str) -> Image.Image:
    from PIL import Image, ImageDraw

    tile = Image.new("RGB", (size, size), PLACEHOLDER)
    draw = ImageDraw.Draw(tile)
    letter = next((c for c in label if c.isalnum()), "♪").upper()
    face = Lettering(max(size // 3, 1)).face_for(letter)
    box = draw.textbbox((0, 0), letter, font=face)
    x = (size - (box[2] - box[0])) / 2 - box[0]
    y = (size - (box[3] - box[1])) / 2 - box[1]
    draw.text((x, y), letter, fill=PLACEHOLDER_MARK, font=face)
    return tile


def cover_tile(data: bytes | None, size: int, label: str) -> Image.Image:
    """`data` as a `size` x `size` RGB image, or a placeholder."""
    from PIL import Image, UnidentifiedImageError

    if data is None:
        return placeholder(size, label)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (size, size))
            source = image if image.mode in RESIZABLE else image.convert("RGB")
            scaled = source.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
            return scaled.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        log.info("cover art is not a readable image; drawing a placeholder")
        return placeholder(size, label)
