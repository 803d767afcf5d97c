"""Make any embed (or set of embeds for one message) fit Discord's limits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord

from bot.ui import limits
from bot.ui.text import text_length, truncate

_BLANK = "\u200b"
"""Discord refuses empty field names and values; a zero-width space shows as nothing."""
_MIN_SHORTENED_VALUE = 32


def embed_length(embed: discord.Embed) -> int:
    """What counts toward the 6000 total: title, description, fields, footer text, author."""
    data: dict[str, Any] = dict(embed.to_dict())
    parts = [data.get("title", ""), data.get("description", "")]
    parts += [data.get("footer", {}).get("text", ""), data.get("author", {}).get("name", "")]
    for field in data.get("fields", []):
        parts += [field["name"], field["value"]]
    return sum(text_length(part) for part in parts)


def _cut(data: dict[str, Any], key: str, limit: int) -> int:
    """Truncate `data[key]` in place (dropping it when empty) and return its length."""
    value = data.get(key)
    if value is None:
        return 0
    value = truncate(str(value), limit)
    if value:
        data[key] = value
    else:
        del data[key]
    return text_length(value)


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """A copy of `embed` within every limit.

    Title, author and footer are cut to their own limits; the description then gets what is
    left of the 6000 total, and fields follow in order while they fit (the first that does
    not is shortened when a useful part of it still fits; the rest are dropped).
    """
    data: dict[str, Any] = dict(embed.to_dict())
    used = _cut(data, "title", limits.EMBED_TITLE)
    for key, text_key, limit in (
        ("author", "name", limits.EMBED_AUTHOR_NAME),
        ("footer", "text", limits.EMBED_FOOTER),
    ):
        if key in data:
            part = dict(data[key])
            used += _cut(part, text_key, limit)
            if text_key in part:
                data[key] = part
            else:
                del data[key]
    used += _cut(data, "description", min(limits.EMBED_DESCRIPTION, limits.EMBED_TOTAL - used))

    fields: list[dict[str, Any]] = []
    for field in data.get("fields", [])[: limits.EMBED_FIELDS]:
        name = truncate(str(field.get("name") or _BLANK), limits.EMBED_FIELD_NAME)
        value = truncate(str(field.get("value") or _BLANK), limits.EMBED_FIELD_VALUE)
        room = limits.EMBED_TOTAL - used - text_length(name)
        if room < text_length(value):
            if room >= _MIN_SHORTENED_VALUE:
                fields.append({**field, "name": name, "value": truncate(value, room)})
            break
        fields.append({**field, "name": name, "value": value})
        used += text_length(name) + text_length(value)
    data["fields"] = fields
    return discord.Embed.from_dict(data)


def fit_embeds(embeds: Iterable[discord.Embed]) -> list[discord.Embed]:
    """At most 10 fitted embeds whose lengths add up to at most 6000 (later ones dropped)."""
    kept: list[discord.Embed] = []
    total = 0
    for embed in embeds:
        if len(kept) == limits.EMBEDS_PER_MESSAGE:
            break
        fitted = fit_embed(embed)
        total += embed_length(fitted)
        if total > limits.EMBED_TOTAL:
            break
        kept.append(fitted)
    return kept
