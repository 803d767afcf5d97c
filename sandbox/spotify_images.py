"""Small generated cover images, so features that draw album art have real PNGs to fetch."""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from PIL import Image, ImageDraw

MIN_SIZE = 16
MAX_SIZE = 640


@lru_cache(maxsize=1024)
def cover_png(item_id: str, size: int) -> bytes:
    """A square PNG whose colours are derived from `item_id` (same id, same picture)."""
    digest = hashlib.blake2b(item_id.encode(), digest_size=6).digest()
    background, accent = tuple(digest[:3]), tuple(255 - channel for channel in digest[3:])
    image = Image.new("RGB", (size, size), background)
    inset = size // 5
    ImageDraw.Draw(image).ellipse((inset, inset, size - inset, size - inset), fill=accent)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
