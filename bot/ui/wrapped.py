"""The /wrapped reply: the card as a PNG attachment (drawn off the event loop) and a one-line
summary of it."""

from __future__ import annotations

import asyncio
import io

import discord

from bot.services.wrapped import Wrapped, WrappedArt
from bot.ui.library import possessive
from bot.ui.text import escape, one_line, truncate
from bot.ui.wrapped_card import render_card

WRAPPED_FILE = "wrapped.png"
NAME_LIMIT = 100


def wrapped_summary(name: str, wrapped: Wrapped) -> str:
    """e.g. "**alice's 2026**: 1,234 plays · 4,321 minutes · top artist **Xavier**"."""
    parts = [f"{wrapped.plays:,} plays", f"{wrapped.minutes:,} minutes"]
    if wrapped.top_artists:
        top = truncate(one_line(wrapped.top_artists[0].item.name), NAME_LIMIT)
        parts.append(f"top artist **{escape(top)}**")
    owner = escape(possessive(truncate(one_line(name), NAME_LIMIT)))
    return f"**{owner} {wrapped.year}**: " + " · ".join(parts)


async def wrapped_file(name: str, wrapped: Wrapped, art: WrappedArt) -> discord.File:
    png = await asyncio.to_thread(render_card, name, wrapped, art)
    return discord.File(io.BytesIO(png), filename=WRAPPED_FILE)
