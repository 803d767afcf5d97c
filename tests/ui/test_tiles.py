"""Cover tiles: any image Pillow reads becomes an RGB square; anything else a placeholder."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.ui.tiles import PLACEHOLDER, cover_tile, placeholder

RED = (200, 20, 20)


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("RGB", "PNG"), ("RGB", "JPEG"), ("RGBA", "PNG"), ("P", "PNG"), ("CMYK", "JPEG")],
)
def test_images_of_every_mode_become_rgb_squares(mode: str, fmt: str) -> None:
    source = Image.new("RGB", (640, 480), RED).convert(mode)
    tile = cover_tile(encoded(source, fmt), 80, "Red")
    assert tile.mode == "RGB" and tile.size == (80, 80)
    assert all(abs(a - b) <= 12 for a, b in zip(tile.getpixel((40, 40)), RED, strict=True))


@pytest.mark.parametrize(
    "data", [None, b"", b"not an image", encoded(Image.new("RGB", (9, 9)), "PNG")[:40]]
)
def test_missing_or_unreadable_art_is_a_placeholder(data: bytes | None) -> None:
    tile = cover_tile(data, 90, "alpha")
    assert tile.size == (90, 90)
    assert tile.getpixel((2, 2)) == PLACEHOLDER


@pytest.mark.parametrize(
    ("label", "same_as"), [("🔥 Fire Song", "Fire"), ("  (live) bonus", "Live"), ("...", "")]
)
def test_a_placeholder_shows_the_first_letter_or_digit_of_the_name(
    label: str, same_as: str
) -> None:
    """Not the emoji or punctuation a name opens with; none at all: a note."""
    assert placeholder(90, label).tobytes() == placeholder(90, same_as).tobytes()
    assert placeholder(90, label).tobytes() != placeholder(90, "Z").tobytes()
