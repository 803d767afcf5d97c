"""Embeds for lists of Spotify items and for a single item, from display-neutral lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import discord

from bot.spotify.brand import SPOTIFY_GREEN
from bot.ui import limits
from bot.ui.embeds import fit_embed
from bot.ui.text import (
    defuse_mentions,
    escape,
    masked_link,
    one_line,
    safe_url,
    text_length,
    truncate,
)

ACCENT: Final = discord.Colour(SPOTIFY_GREEN)

NAME_LIMIT: Final = 100
SUBTITLE_LIMIT: Final = 100
DETAIL_LIMIT: Final = 60
NOTE_LIMIT: Final = 1000
UNTITLED: Final = "(untitled)"
EMPTY_PAGE: Final = "Nothing to show here yet."


@dataclass(frozen=True, slots=True)
class ItemLine:
    """One track, artist, album, playlist… as shown in a list.

    `subtitle` is e.g. "by X, Y" or an album name; `detail` e.g. "saved 2026-03-01" or
    "12 tracks". All texts are plain: the builders escape them.
    """

    name: str
    url: str | None
    subtitle: str | None = None
    image_url: str | None = None
    detail: str | None = None


def _plain(text: str | None, limit: int) -> str:
    """Escaped single-line text cut to `limit`; empty for None or blank."""
    return truncate(escape(one_line(text or "")), limit)


def _name(line: ItemLine) -> str:
    return one_line(line.name) or UNTITLED


def render_line(line: ItemLine, rank: int | None) -> str:
    """`1. [Name](url) — subtitle · detail`, or a bullet instead of the rank."""
    prefix = f"{rank}." if rank is not None else "-"
    text = f"{prefix} {masked_link(_name(line), line.url, NAME_LIMIT)}"
    extras = [
        part
        for part in (_plain(line.subtitle, SUBTITLE_LIMIT), _plain(line.detail, DETAIL_LIMIT))
        if part
    ]
    if extras:
        text += " — " + " · ".join(extras)
    return text


def _list_description(lines: Sequence[ItemLine], start_rank: int | None, budget: int) -> str:
    """The rendered lines; when they outgrow `budget`, "…and N more" ends them."""
    rendered: list[str] = []
    used = 0
    for offset, line in enumerate(lines):
        text = render_line(line, None if start_rank is None else start_rank + offset)
        left_after = len(lines) - offset - 1
        reserve = text_length(f"\n…and {left_after} more") if left_after else 0
        if used + text_length(text) + reserve > budget:
            rendered.append(f"…and {left_after + 1} more")
            break
        rendered.append(text)
        used += text_length(text) + 1
    return "\n".join(rendered) or EMPTY_PAGE


def list_page_embed(
    title: str,
    lines: Sequence[ItemLine],
    *,
    start_rank: int | None,
    thumbnail_url: str | None = None,
    footer: str | None = None,
    note: str | None = None,
) -> discord.Embed:
    """One page of a list; ranks count from `start_rank`, or bullets when it is None. `note`
    (Discord markdown, e.g. a timestamp) goes above the lines."""
    title = _plain(title, limits.EMBED_TITLE)
    footer = truncate(defuse_mentions(footer or ""), limits.EMBED_FOOTER)
    head = f"{truncate(defuse_mentions(one_line(note)), NOTE_LIMIT)}\n\n" if note else ""
    budget = min(
        limits.EMBED_DESCRIPTION, limits.EMBED_TOTAL - text_length(title) - text_length(footer)
    )
    budget -= text_length(head)
    embed = discord.Embed(
        title=title,
        description=head + _list_description(lines, start_rank, budget),
        colour=ACCENT,
    )
    if thumbnail := safe_url(thumbnail_url):
        embed.set_thumbnail(url=thumbnail)
    if footer:
        embed.set_footer(text=footer)
    return fit_embed(embed)


def item_embed(
    line: ItemLine,
    *,
    heading: str | None = None,
    note: str | None = None,
    footer: str | None = None,
    large_art: bool = False,
) -> discord.Embed:
    """A single item with its art: the name links to Spotify, `heading` (e.g. "Saved to your
    library" or "Shared by Alice") sits above it and a member's `note` is quoted below."""
    body = [part for part in (_plain(line.subtitle, 1024), _plain(line.detail, 256)) if part]
    if note and (quoted := _plain(note, NOTE_LIMIT)):
        body.append(f"\n> {quoted}")
    embed = discord.Embed(
        title=_plain(_name(line), limits.EMBED_TITLE),
        url=safe_url(line.url),
        description="\n".join(body) or None,
        colour=ACCENT,
    )
    if heading:
        embed.set_author(name=defuse_mentions(one_line(heading)))
    if art := safe_url(line.image_url):
        if large_art:
            embed.set_image(url=art)
        else:
            embed.set_thumbnail(url=art)
    if footer:
        embed.set_footer(text=defuse_mentions(footer))
    return fit_embed(embed)
