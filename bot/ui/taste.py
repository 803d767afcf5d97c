"""A taste match as a member sees it, on either basis (top lists or plays)."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.ui.items import ACCENT
from bot.ui.text import truncate


def taste_parts(
    score: int,
    artists: float | None,
    tracks: float | None,
    shared: Sequence[str],
    shared_total: int,
) -> list[str]:
    """The body of a taste match on either basis: the score, its parts, shared favourites."""
    parts = [f"**{score}%** taste match"]
    details = []
    if artists is not None:
        details.append(f"artists {round(artists * 100)}%")
    if tracks is not None:
        details.append(f"tracks {round(tracks * 100)}%")
    if details:
        parts.append(" · ".join(details))
    if shared:
        parts.append("**Shared favourites**\n" + "\n".join(shared))
        if shared_total > len(shared):
            parts.append(f"…and {shared_total - len(shared)} more in common")
    else:
        parts.append("No favourites in common yet.")
    return parts


def taste_embed(parts: Sequence[str], name_a: str, name_b: str, basis: str) -> discord.Embed:
    embed = discord.Embed(
        title=truncate(f"{name_a} × {name_b}", 256),
        description=truncate("\n\n".join(parts), 4096),
        colour=ACCENT,
    )
    embed.set_footer(text=f"Artists and tracks {basis}")
    return embed
