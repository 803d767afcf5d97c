"""Lettering: text drawn with DejaVu, what DejaVu lacks (Chinese, Japanese, Korean) with a face
that has it, and emoji in colour, on one baseline."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from bot.ui.fonts import EMOJI_STRIKE, Emoji, Lettering, _emoji_path, _fallback_paths, covers, font
from bot.ui.tiles import placeholder

WHITE = (255, 255, 255)
NOWHERE = "\U000f0001"  # private use: no face has a glyph for it

needs_cjk = pytest.mark.skipif(
    not (_fallback_paths(False) and _fallback_paths(True)),
    reason="no CJK face on this machine (Debian: apt install fonts-noto-cjk; .ci/run does)",
)

needs_emoji = pytest.mark.skipif(
    _emoji_path() is None,
    reason="no colour emoji face on this machine (Debian: apt install fonts-noto-color-emoji;"
    " .ci/run does)",
)


def _drawn(lettering: Lettering, text: str, size: tuple[int, int] = (600, 80)) -> Image.Image:
    image = Image.new("RGB", size)
    lettering.draw(image, (10, 10), text, WHITE)
    return image


def _coloured(image: Image.Image) -> int:
    """Pixels that are not grey: white text on black has none."""
    data = image.convert("RGB").tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for pixel in pixels if max(pixel) - min(pixel) > 40)


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


@needs_emoji
def test_emoji_are_runs_of_the_colour_face_and_sequences_stay_whole() -> None:
    lettering = Lettering(30)
    runs = lettering.runs("Fire 🔥 Song")
    assert [run for run, _ in runs] == ["Fire ", "🔥", " Song"]
    assert runs[0][1] is lettering.primary and runs[2][1] is lettering.primary
    assert isinstance(runs[1][1], Emoji)
    family = "👨\u200d👩\u200d👧"
    for sequence in ("👍🏽", "❤️", "1️⃣", family, "🇯🇵"):
        (run, face), *rest = lettering.runs(sequence + " x")
        assert (run, isinstance(face, Emoji)) == (sequence, True)
        assert rest == [(" x", lettering.primary)]
    assert lettering.runs("Track 1") == [("Track 1", lettering.primary)]


@needs_emoji
def test_an_emoji_is_measured_at_the_size_of_the_text() -> None:
    lettering = Lettering(30)
    (_, emoji), *_ = lettering.runs("🔥")
    assert isinstance(emoji, Emoji)
    width = emoji.strike.getlength("🔥") * 30 / EMOJI_STRIKE
    assert lettering.length("🔥") == pytest.approx(width)
    assert 25 <= width <= 45
    assert lettering.length("a🔥") == pytest.approx(lettering.primary.getlength("a") + width)


@needs_emoji
def test_emoji_are_drawn_in_colour_on_the_line_of_text() -> None:
    lettering = Lettering(60)
    image = _drawn(lettering, "A🔥", size=(300, 120))
    split = int(10 + lettering.primary.getlength("A"))
    latin = image.crop((0, 0, split, 120))
    emoji = image.crop((split, 0, 300, 120))
    assert _coloured(latin) == 0
    assert _coloured(emoji) > 300
    latin_box, emoji_box = latin.getbbox(), emoji.getbbox()
    assert latin_box is not None and emoji_box is not None
    middle = (latin_box[1] + latin_box[3]) / 2
    assert abs((emoji_box[1] + emoji_box[3]) / 2 - middle) <= 6
    assert emoji_box[3] - emoji_box[1] <= 80  # scaled to the text, not the 109 px bitmap


@needs_emoji
def test_fit_cuts_text_with_emoji_to_the_width() -> None:
    lettering = Lettering(30)
    text = "🔥 Lit 🔥 " * 10
    fitted = lettering.fit(text, 250)
    assert fitted.endswith("…") and lettering.length(fitted) <= 250
    assert _coloured(_drawn(lettering, fitted)) > 0
