"""Text that is safe to show on Discord: cut to a limit, markdown and mentions defused."""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import quote, urlsplit

import discord

from bot.ui import limits

NO_MENTIONS: Final = discord.AllowedMentions.none()
"""Passed with every reply: names echoed from Spotify or members must never ping anyone."""

ELLIPSIS: Final = "…"
ECHO_LIMIT: Final = 100
"""How much of a member's own option text a reply repeats (Discord allows 6000 in an option)."""

_JOINERS: Final = frozenset("\u200d\ufe0e\ufe0f")
_MAX_CLUSTER_BACKOFF: Final = 16
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]{1,20})|<#([0-9])")
_UNESCAPED_BRACKET = re.compile(r"(?<!\\)((?:\\\\)*)([\[\]])")
_URL_SAFE: Final = ":/?#[]@!$&'*+,;=%~"


def text_length(text: str) -> int:
    """Length in UTF-16 code units.

    Discord's clients count UTF-16 units, where an astral character (most emoji) counts twice;
    measuring this way keeps within a limit however the server counts.
    """
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _extends_cluster(char: str) -> bool:
    """Whether `char` belongs to the character before it (accent, joiner, selector, skin tone)."""
    code = ord(char)
    return (
        char in _JOINERS
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """Cut `text` to at most `limit` UTF-16 units, ending with `ellipsis` when something was cut.

    The cut falls between code points (never inside a surrogate pair), preferably not inside
    a cluster such as a letter with its accents or a joined emoji, and never leaves a
    backslash that would escape the ellipsis.
    """
    if text_length(text) <= limit:
        return text
    budget = limit - text_length(ellipsis)
    if budget <= 0:
        return truncate(ellipsis, limit, ellipsis="") if ellipsis else ""
    cut = used = 0
    for char in text:
        used += _units(char)
        if used > budget:
            break
        cut += 1
    floor = max(0, cut - _MAX_CLUSTER_BACKOFF)
    while cut > floor and (_extends_cluster(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    head = text[:cut].rstrip()
    trailing_backslashes = len(head) - len(head.rstrip("\\"))
    if trailing_backslashes % 2:
        head = head[:-1].rstrip()
    return head + ellipsis


def one_line(text: str) -> str:
    """Collapse all whitespace, newlines included, to single spaces."""
    return " ".join(text.split())


def defuse_mentions(text: str) -> str:
    """Break user, role, channel, @everyone and @here mentions with an invisible space."""
    return _MENTION.sub(lambda m: f"@\u200b{m[1]}" if m[1] is not None else f"<#\u200b{m[2]}", text)


def escape(text: str) -> str:
    """Show `text` literally: markdown escaped (links included) and mentions defused."""
    return defuse_mentions(discord.utils.escape_markdown(text, ignore_links=False))


def escape_link_text(text: str) -> str:
    """Like `escape`, and also escape brackets so the text can sit inside `[...](url)`."""
    return _UNESCAPED_BRACKET.sub(r"\1\\\2", escape(text))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for a markdown link (parentheses and spaces encoded), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(url, safe=_URL_SAFE)


def masked_link(text: str, url: str | None, limit: int) -> str:
    """`[text](url)` with `text` escaped and cut to `limit` units; plain escaped text without a
    usable URL."""
    target = safe_url(url)
    if target is None:
        return truncate(escape(text), limit)
    return f"[{truncate(escape_link_text(text), limit)}]({target})"


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """What a member typed, shown back to them: one line, escaped, cut to `limit` units."""
    return truncate(escape(one_line(text)), limit)


def fit_content(text: str) -> str:
    """Message content cut to Discord's 2000 limit (markdown left as the caller wrote it)."""
    return truncate(text, limits.MESSAGE_CONTENT)


def label(text: str) -> str:
    """A button or select label: one line, at most 80, never empty."""
    return truncate(one_line(text), limits.COMPONENT_LABEL) or ELLIPSIS
