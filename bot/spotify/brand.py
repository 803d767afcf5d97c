"""Spotify's green, the accent of Encore's embeds and web pages."""

from typing import Final

SPOTIFY_GREEN: Final = 0x1DB954
SPOTIFY_GREEN_CSS: Final = f"#{SPOTIFY_GREEN:06x}"
