"""Fonts for images drawn with Pillow: DejaVu Sans where the system has it (it covers Latin,
Greek, Cyrillic and many symbols), else the font Pillow bundles (Latin only); for what the
face lacks (Chinese, Japanese, Korean), Noto Sans CJK where the system has it (Debian:
fonts-noto-cjk), character by character (`Lettering`); emoji in colour with Noto Color Emoji
where the system has it (Debian: fonts-noto-color-emoji)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageFont

    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

FACES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
FALLBACK_FACES = {False: ("NotoSansCJK-Regular.ttc",), True: ("NotoSansCJK-Bold.ttc",)}
"""Loaded per drawing and not kept: each size of a CJK face holds about 2 MB."""
EMOJI_FACE = "NotoColorEmoji.ttf"
EMOJI_STRIKE = 109
"""A bitmap face: FreeType loads it only at the size of its bitmaps; runs are drawn at that
size and scaled to the text's."""
EMOJI_PLANE = range(0x1F000, 0x1FB00)
EMOJI_STYLE = "\ufe0f"
JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3") | {chr(c) for c in range(0x1F3FB, 0x1F400)}
"""Characters that belong to the character before them (zero-width joiner, variation
selectors, keycap, skin tones): an emoji sequence stays one run, shaped as one glyph."""
ELLIPSIS = "…"
_MISSING = "\U000f0000"  # private use: no face draws it, so it shows the face's "no glyph" box
_COVERAGE_LIMIT = 20_000
_coverage: dict[tuple[str, str], bool] = {}


def _find(name: str, size: int = 12) -> str | None:
    """Where the system keeps the face (Pillow searches the usual font folders); `size`: one
    the face can be loaded at."""
    from PIL import ImageFont

    try:
        found = ImageFont.truetype(name, size)
    except OSError:
        return None
    return str(found.path)


@functools.cache
def _face_path(bold: bool) -> str | None:
    return _find(FACES[bold])


@functools.cache
def _fallback_paths(bold: bool) -> tuple[str, ...]:
    return tuple(path for name in FALLBACK_FACES[bold] if (path := _find(name)) is not None)


@functools.cache
def _emoji_path() -> str | None:
    return _find(EMOJI_FACE, EMOJI_STRIKE)


class Emoji:
    """Noto Color Emoji standing in for a face of `size` pixels: measured and drawn at its
    bitmaps' size, scaled by `size / EMOJI_STRIKE`."""

    def __init__(self, path: str, size: int) -> None:
        from PIL import ImageFont

        self.strike = ImageFont.truetype(path, EMOJI_STRIKE)
        self.scale = size / EMOJI_STRIKE

    def getlength(self, text: str) -> float:
        return self.strike.getlength(text) * self.scale

    def image(self, text: str) -> tuple[Image.Image, int]:
        """`text` in colour, scaled, and how far its baseline is below its top."""
        from PIL import Image, ImageDraw

        ascent, descent = self.strike.getmetrics()
        width = max(int(self.strike.getlength(text)) + 1, 1)
        drawn = Image.new("RGBA", (width, ascent + descent))
        ImageDraw.Draw(drawn).text(
            (0, ascent), text, font=self.strike, anchor="ls", embedded_color=True
        )
        size = (max(round(width * self.scale), 1), max(round((ascent + descent) * self.scale), 1))
        return drawn.resize(size, Image.Resampling.LANCZOS), round(ascent * self.scale)


@functools.lru_cache(maxsize=32)
def font(size: int, *, bold: bool = False) -> Font:
    from PIL import ImageFont

    path = _face_path(bold)
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)


def _mask(face: Font, text: str) -> tuple[tuple[int, int], bytes]:
    mask = face.getmask(text)
    return mask.size, bytes(mask)


def covers(face: Font, character: str) -> bool:
    """Whether `face` has a glyph for `character` (it does not draw its "no glyph" box)."""
    key = (str(getattr(face, "path", "")), character)
    known = _coverage.get(key)
    if known is None:
        if len(_coverage) >= _COVERAGE_LIMIT:
            _coverage.clear()
        known = _coverage[key] = _mask(face, character) != _mask(face, _MISSING)
    return known


class Lettering:
    """Text in one size and weight: the primary face (`font`), and for each character it lacks
    the first fallback face that has it (a character no face has stays with the primary)."""

    def __init__(self, size: int, *, bold: bool = False) -> None:
        self.primary = font(size, bold=bold)
        self._size = size
        self._bold = bold
        self._fallbacks: list[Font] | None = None
        self._emoji: Emoji | None = None

    def _fallback_faces(self) -> list[Font]:
        if self._fallbacks is None:
            from PIL import ImageFont

            self._fallbacks = [
                ImageFont.truetype(path, self._size) for path in _fallback_paths(self._bold)
            ]
        return self._fallbacks

    def face_for(self, character: str) -> Font:
        if covers(self.primary, character):
            return self.primary
        for face in self._fallback_faces():
            if covers(face, character):
                return face
        return self.primary

    def _emoji_face(self) -> Emoji | None:
        if self._emoji is None and (path := _emoji_path()) is not None:
            self._emoji = Emoji(path, self._size)
        return self._emoji

    def _face_at(self, text: str, index: int) -> Font | Emoji:
        """The face for `text[index]`: in colour when it is an emoji (in the emoji planes, or
        asking for emoji style) or no text face has it, and the emoji face has it."""
        character = text[index]
        wants_emoji = ord(character) in EMOJI_PLANE or text[index + 1 : index + 2] == EMOJI_STYLE
        if not wants_emoji:
            face = self.face_for(character)
            if face is not self.primary or covers(face, character):
                return face
        emoji = self._emoji_face()
        if emoji is not None and covers(emoji.strike, character):
            return emoji
        return self.face_for(character)

    def runs(self, text: str) -> list[tuple[str, Font | Emoji]]:
        """`text` cut where the face drawing it changes."""
        runs: list[tuple[str, Font | Emoji]] = []
        for index, character in enumerate(text):
            if runs and character in JOINERS:
                runs[-1] = (runs[-1][0] + character, runs[-1][1])
                continue
            face = self._face_at(text, index)
            if runs and runs[-1][1] is face:
                runs[-1] = (runs[-1][0] + character, face)
            else:
                runs.append((character, face))
        return runs

    def length(self, text: str) -> float:
        return sum(face.getlength(run) for run, face in self.runs(text))

    def fit(self, text: str, width: float) -> str:
        """`text` cut (with an ellipsis) to at most `width` pixels."""
        if self.length(text) <= width:
            return text
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.length(text[:middle].rstrip() + ELLIPSIS) <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + ELLIPSIS

    def draw(
        self,
        image: Image.Image,
        xy: tuple[float, float],
        text: str,
        fill: tuple[int, int, int],
    ) -> None:
        """`text` on `image` with its top left at `xy`, as `ImageDraw.text` places it, every
        run on the primary face's baseline."""
        from PIL import ImageDraw

        draw = ImageDraw.Draw(image)
        runs = self.runs(text)
        if len(runs) <= 1 and (not runs or runs[0][1] is self.primary):
            draw.text(xy, text, font=self.primary, fill=fill)
            return
        x, top = xy
        metrics = getattr(self.primary, "getmetrics", None)
        baseline = top + (metrics()[0] if metrics is not None else 0)
        for run, face in runs:
            if isinstance(face, Emoji):
                drawn, above = face.image(run)
                image.paste(drawn, (round(x), round(baseline) - above), drawn)
            else:
                draw.text((x, baseline), run, font=face, fill=fill, anchor="ls")
            x += face.getlength(run)
