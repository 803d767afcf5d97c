"""The /wrapped card: a 1080 px wide PNG drawn with Pillow (in a worker thread, see
bot/ui/wrapped.py).

Layout, top to bottom: the header (member and year), the two big numbers (minutes, plays), the
top 5 artists and top 5 tracks side by side with their art, then four tiles (top album, longest
streak, busiest weekday, artists first heard that year) and a footer saying the year is UTC.
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.services.wrapped import Wrapped, WrappedArt
from bot.store.wrapped import TOP_ITEMS, YearItem
from bot.ui.fonts import Lettering
from bot.ui.tiles import cover_tile

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

WIDTH = 1080
HEIGHT = 1440
MARGIN = 60
GAP = 30
COLUMN = (WIDTH - 2 * MARGIN - GAP) // 2
BACKGROUND = (18, 18, 18)
HEADER_BACKGROUND = (16, 74, 44)
PANEL = (36, 36, 36)
ACCENT = (30, 215, 96)
TEXT = (255, 255, 255)
MUTED = (179, 179, 179)
NUMBERS_TOP = 230
LISTS_TOP = 440
ART = 80
ART_LEFT = 44  # from a list's left edge, after the rank
LIST_HEADING = 60
ROW = 96
TILE_HEIGHT = 150


def _plays(count: int) -> str:
    return "1 play" if count == 1 else f"{count:,} plays"


def _rounded(image: Image.Image, radius: int) -> Image.Image:
    """A mask that rounds `image`'s corners (a circle when `radius` is half its size)."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *image.size), radius=radius, fill=255)
    return mask


class _Card:
    def __init__(self) -> None:
        from PIL import Image, ImageDraw

        self.image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        self.draw: ImageDraw.ImageDraw = ImageDraw.Draw(self.image)

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        *,
        bold: bool = False,
        fill: tuple[int, int, int] = TEXT,
        width: float | None = None,
    ) -> None:
        lettering = Lettering(size, bold=bold)
        shown = lettering.fit(text, width) if width is not None else text
        lettering.draw(self.image, xy, shown, fill)

    def panel(self, x: int, y: int, width: int, height: int) -> None:
        self.draw.rounded_rectangle((x, y, x + width, y + height), radius=18, fill=PANEL)

    def art(
        self, data: bytes | None, label: str, xy: tuple[int, int], size: int, radius: int
    ) -> None:
        tile = cover_tile(data, size, label)
        self.image.paste(tile, xy, _rounded(tile, radius))

    def header(self, name: str, year: int) -> None:
        self.draw.rectangle((0, 0, WIDTH, 200), fill=HEADER_BACKGROUND)
        self.text((MARGIN, 48), "ENCORE WRAPPED", 28, bold=True, fill=ACCENT)
        self.text((MARGIN, 88), f"{name} · {year}", 64, bold=True, width=WIDTH - 2 * MARGIN)

    def big_number(self, x: int, y: int, value: int, label: str) -> None:
        self.panel(x, y, COLUMN, 170)
        self.text((x + 30, y + 24), f"{value:,}", 72, bold=True, fill=ACCENT, width=COLUMN - 60)
        self.text((x + 30, y + 116), label, 30, fill=MUTED)

    def top_list(
        self,
        x: int,
        y: int,
        title: str,
        entries: Sequence[YearItem],
        images: Sequence[bytes | None],
        *,
        round_art: bool,
    ) -> None:
        self.text((x, y), title, 36, bold=True)
        if not entries:
            self.text((x, y + 70), "nothing yet", 28, fill=MUTED)
        text_x = x + ART_LEFT + ART + 18
        text_width = x + COLUMN - text_x
        for rank, (entry, data) in enumerate(zip(entries, images, strict=True), start=1):
            top = y + LIST_HEADING + (rank - 1) * ROW
            self.text((x, top + 22), str(rank), 32, bold=True, fill=MUTED)
            radius = ART // 2 if round_art else 10
            self.art(data, entry.item.name, (x + ART_LEFT, top), ART, radius)
            self.text((text_x, top + 8), entry.item.name, 30, bold=True, width=text_width)
            detail = _plays(entry.plays)
            if not round_art and entry.item.subtitle:
                detail = f"{detail} · {entry.item.subtitle}"
            self.text((text_x, top + 46), detail, 24, fill=MUTED, width=text_width)

    def tile(self, x: int, y: int, label: str, value: str, detail: str) -> None:
        self.panel(x, y, COLUMN, TILE_HEIGHT)
        self.text((x + 28, y + 20), label, 24, fill=MUTED)
        self.text((x + 28, y + 54), value, 44, bold=True, fill=ACCENT, width=COLUMN - 56)
        self.text((x + 28, y + 108), detail, 24, fill=MUTED, width=COLUMN - 56)

    def album_tile(self, x: int, y: int, album: YearItem | None, data: bytes | None) -> None:
        self.panel(x, y, COLUMN, TILE_HEIGHT)
        if album is None:
            self.text((x + 28, y + 20), "Top album", 24, fill=MUTED)
            self.text((x + 28, y + 60), "none known", 32, bold=True)
            return
        size = TILE_HEIGHT - 40
        self.art(data, album.item.name, (x + 20, y + 20), size, 10)
        text_x = x + 20 + size + 20
        width = x + COLUMN - 24 - text_x
        self.text((text_x, y + 20), "Top album", 24, fill=MUTED)
        self.text((text_x, y + 54), album.item.name, 30, bold=True, width=width)
        detail = _plays(album.plays)
        if album.item.subtitle:
            detail = f"{detail} · {album.item.subtitle}"
        self.text((text_x, y + 98), detail, 24, fill=MUTED, width=width)

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.save(out, format="PNG", compress_level=1)
        return out.getvalue()


def _streak(wrapped: Wrapped) -> tuple[str, str]:
    streak = wrapped.streak
    if streak is None:
        return "–", ""
    days = "1 day" if streak.days == 1 else f"{streak.days} days"
    if streak.first == streak.last:
        return days, streak.first.strftime("%b %-d")
    return days, f"{streak.first:%b %-d} – {streak.last:%b %-d}"


def _busiest(wrapped: Wrapped) -> tuple[str, str]:
    busiest = wrapped.busiest
    if busiest is None:
        return "–", ""
    return f"{calendar.day_name[busiest.weekday]}s", _plays(busiest.plays)


def _new_artists(wrapped: Wrapped) -> tuple[str, str]:
    new = wrapped.new_artists
    return f"{new.count:,}", ", ".join(new.names) if new.names else "none new this year"


def render_card(name: str, wrapped: Wrapped, art: WrappedArt) -> bytes:
    """The card as PNG bytes; missing or unreadable art becomes a placeholder."""
    card = _Card()
    right = MARGIN + COLUMN + GAP
    card.header(name, wrapped.year)
    card.big_number(MARGIN, NUMBERS_TOP, wrapped.minutes, "minutes listened")
    card.big_number(right, NUMBERS_TOP, wrapped.plays, "plays")
    card.top_list(
        MARGIN, LISTS_TOP, "Top artists", wrapped.top_artists, art.artists, round_art=True
    )
    card.top_list(right, LISTS_TOP, "Top tracks", wrapped.top_tracks, art.tracks, round_art=False)
    tiles = LISTS_TOP + LIST_HEADING + TOP_ITEMS * ROW + GAP
    card.album_tile(MARGIN, tiles, wrapped.top_album, art.album)
    card.tile(right, tiles, "Longest streak", *_streak(wrapped))
    lower = tiles + TILE_HEIGHT + GAP
    card.tile(MARGIN, lower, "Busiest day", *_busiest(wrapped))
    card.tile(right, lower, "Artists first heard", *_new_artists(wrapped))
    card.text(
        (MARGIN, lower + TILE_HEIGHT + 40),
        f"{wrapped.year} in UTC · plays from Discord status, Spotify and imports",
        22,
        fill=MUTED,
    )
    return card.png()
