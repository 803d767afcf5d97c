"""Lettering: text drawn with DejaVu, and what DejaVu lacks (Chinese, Japanese, Korean) with a
face that has it, on one baseline."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from bot.ui.fonts import Lettering, _fallback_paths, covers, font
from bot.ui.tiles import placeholder

WHITE = (255, 255, 255)
NOWHERE = "\U000f0001"  # private use: no face has a glyph for it

needs_cjk = pytest.mark.skipif(
    not (_fallback_paths(False) and _fallback_paths(True)),
    reason="no CJK face on this machine (Debian: apt install fonts-noto-cjk; .ci/run does)",
)


def _drawn(lettering: Lettering, text: str, size: tuple[int, int] = (600, 80)) -> Image.Image:
    image = Image.new("RGB", size)
    lettering.draw(ImageDraw.Draw(image), (10, 10), text, WHITE)
    return image


def test_text_the_face_has_is_one_run_of_it() -> None:
    lettering = Lettering(30)
    assert lettering.runs("Bjork - Homogenic") == [("Bjork - Homogenic", lettering.primary)]
    assert lettering.length("Bjork") == lettering.primary.getlength("Bjork")


def test_covers_tells_a_glyph_from_the_no_glyph_box() -> None:
    primary = font(30)
    assert covers(primary, "A")
    assert covers(primary, " ")
    assert not covers(primary, NOWHERE)


def test_latin_text_is_placed_where_pillow_places_it() -> None:
    lettering = Lettering(30, bold=True)
    expected = Image.new("RGB", (600, 80))
    ImageDraw.Draw(expected).text((10, 10), "Hello World", font=lettering.primary, fill=WHITE)
    assert _drawn(lettering, "Hello World").tobytes() == expected.tobytes()


def test_a_character_no_face_has_stays_with_the_primary() -> None:
    lettering = Lettering(30)
    assert lettering.runs(f"a{NOWHERE}b") == [(f"a{NOWHERE}b", lettering.primary)]


@needs_cjk
@pytest.mark.parametrize("bold", [False, True])
def test_cjk_characters_are_drawn_with_a_face_that_has_them(bold: bool) -> None:
    lettering = Lettering(30, bold=bold)
    runs = lettering.runs("Aimer - 米津玄師 - 아이유")
    assert [run for run, _ in runs] == ["Aimer - ", "米津玄師", " - ", "아이유"]
    assert runs[0][1] is lettering.primary and runs[2][1] is lettering.primary
    cjk = runs[1][1]
    assert cjk is not lettering.primary and runs[3][1] is cjk
    assert covers(cjk, "米") and not covers(lettering.primary, "米")


@needs_cjk
def test_drawn_cjk_text_shows_its_glyphs_not_boxes() -> None:
    lettering = Lettering(40)
    boxes = _drawn(lettering, NOWHERE * 4).tobytes()
    assert _drawn(lettering, "米津玄師").tobytes() != boxes
    assert _drawn(lettering, "東京").getbbox() is not None


@needs_cjk
def test_runs_of_another_face_sit_on_the_same_baseline() -> None:
    """ "A" and "口" (a square sitting on the line) end within a few pixels of each other; drawn
    from the top of each face instead, Noto's taller ascent would push "口" down."""
    lettering = Lettering(60)
    image = _drawn(lettering, "A口", size=(300, 120))
    split = int(10 + lettering.primary.getlength("A"))
    latin = image.crop((0, 0, split, 120)).getbbox()
    ideograph = image.crop((split, 0, 300, 120)).getbbox()
    assert latin is not None and ideograph is not None
    assert abs(latin[3] - ideograph[3]) <= 6


@needs_cjk
def test_fit_measures_every_run_of_the_text() -> None:
    lettering = Lettering(30)
    text = "米津玄師 Lemon " * 8
    fitted = lettering.fit(text, 300)
    assert fitted.endswith("…")
    assert lettering.length(fitted) <= 300
    kept = fitted[:-1]
    more = len(kept) + 1
    while text[:more].rstrip() == kept:
        more += 1
    assert lettering.length(text[:more].rstrip() + "…") > 300  # the longest cut that fits
    assert lettering.fit("米津玄師", 300) == "米津玄師"


@needs_cjk
def test_a_placeholder_tile_shows_the_first_letter_of_a_cjk_name() -> None:
    box = placeholder(90, NOWHERE).tobytes()
    assert placeholder(90, "米津玄師").tobytes() != box
    assert placeholder(90, "Aimer").tobytes() != box
