"""Fonts for images drawn with Pillow: DejaVu Sans where the system has it (it covers Latin,
Greek, Cyrillic and many symbols), else the font Pillow bundles (Latin only)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageFont

FACES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}


@functools.cache
def _face_path(bold: bool) -> str | None:
    """Where the system keeps the face (Pillow searches the usual font folders once)."""
    from PIL import ImageFont

    try:
        found = ImageFont.truetype(FACES[bold], 12)
    except OSError:
        return None
    return str(found.path)


@functools.lru_cache(maxsize=32)
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    path = _face_path(bold)
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)
