"""The demo's transcript: what members ran and what the bot answered, readable in a terminal.

Discord markdown is turned into plain text (links keep their text, escapes are dropped,
mentions and timestamps are spelled out); ANSI styling only when the output is a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sandbox.discord_models import Json, StandInMessage, iter_components

Names = Callable[[str, int], str | None]
"""Looks up a user ("user") or channel ("channel") name by id; None when unknown."""

_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(<?[^)\s>]+>?\)")
_BOLD = re.compile(r"(?<!\\)\*\*(.+?)(?<!\\)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_USER = re.compile(r"<@!?(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::[tTdDfFR])?>")
_ESCAPED = re.compile(r"\\([^\w\s])")
_INVISIBLE = str.maketrans("", "", "\u200b")

BUTTON = 2
SELECT_MENUS = frozenset({3, 5, 6, 7, 8})
TEXT_DISPLAY = 10


@dataclass(frozen=True)
class Style:
    """ANSI styling, or none at all."""

    colour: bool

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def underline(self, text: str) -> str:
        return self._wrap("4", text)

    def accent(self, text: str) -> str:
        return self._wrap("1;32", text)

    def code(self, text: str) -> str:
        return self._wrap("36", text)

    def failure(self, text: str) -> str:
        return self._wrap("1;31", text)


def no_names(kind: str, entity_id: int) -> str | None:
    return None


def plain_text(markdown: str, style: Style, names: Names = no_names) -> str:
    """Discord markdown as terminal text."""

    def user(match: re.Match[str]) -> str:
        return "@" + (names("user", int(match[1])) or "unknown member")

    def channel(match: re.Match[str]) -> str:
        return "#" + (names("channel", int(match[1])) or "unknown channel")

    def moment(match: re.Match[str]) -> str:
        return datetime.fromtimestamp(int(match[1]), UTC).strftime("%Y-%m-%d %H:%M UTC")

    text = _LINK.sub(lambda m: style.underline(m[1]), markdown)
    text = _BOLD.sub(lambda m: style.bold(m[1]), text)
    text = _CODE.sub(lambda m: style.code(m[1]), text)
    text = _USER.sub(user, text)
    text = _CHANNEL.sub(channel, text)
    text = _TIMESTAMP.sub(moment, text)
    lines = [f"│ {line[2:]}" if line.startswith("> ") else line for line in text.splitlines()]
    return _ESCAPED.sub(r"\1", "\n".join(lines)).translate(_INVISIBLE)


def button_label(button: Json) -> str:
    emoji = (button.get("emoji") or {}).get("name") or ""
    label = str(button.get("label") or "")
    return " ".join(part for part in (emoji, label) if part) or "button"


def render_message(message: StandInMessage, style: Style, names: Names = no_names) -> list[str]:
    """The message as terminal lines: who may see it, its text, embeds, buttons and files."""
    lines: list[str] = []
    if message.ephemeral:
        viewer = (message.interaction_metadata or {}).get("user", {}).get("username")
        lines.append(style.dim(f"(only {viewer or 'the member'} sees this)"))
    if message.content:
        lines.extend(plain_text(message.content, style, names).splitlines())
    for embed in message.embeds:
        lines.extend(_embed_lines(embed, style, names))
    for component in iter_components(message.components):
        if component.get("type") == TEXT_DISPLAY:
            lines.extend(plain_text(str(component.get("content", "")), style, names).splitlines())
    controls = list(_control_labels(message.components, style))
    if controls:
        lines.append(" ".join(controls))
    lines.extend(style.dim(f"📎 {a.filename} ({_size(len(a.data))})") for a in message.attachments)
    return lines


def _embed_lines(embed: Json, style: Style, names: Names) -> Iterator[str]:
    author = (embed.get("author") or {}).get("name")
    if author:
        yield style.dim(plain_text(str(author), style, names))
    if embed.get("title"):
        yield style.bold(plain_text(str(embed["title"]), style, names))
    if embed.get("description"):
        yield from plain_text(str(embed["description"]), style, names).splitlines()
    for field in embed.get("fields") or []:
        name = plain_text(str(field.get("name", "")), style, names)
        value = plain_text(str(field.get("value", "")), style, names).splitlines() or [""]
        yield f"{style.bold(name)}: {value[0]}"
        yield from (f"  {line}" for line in value[1:])
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        yield style.dim(plain_text(str(footer), style, names))


def _control_labels(components: list[Json], style: Style) -> Iterator[str]:
    for component in iter_components(components):
        kind = component.get("type")
        if kind == BUTTON:
            shown = f"[{button_label(component)}]"
            yield style.dim(shown) if component.get("disabled") else style.accent(shown)
        elif kind in SELECT_MENUS:
            yield style.accent(f"[▾ {component.get('placeholder') or 'choose'}]")


def _size(count: int) -> str:
    return f"{count} B" if count < 1024 else f"{count / 1024:.0f} KB"


class Transcript:
    """Writes the tour: headings, who ran what with which options, and the bot's replies."""

    def __init__(self, out: TextIO, *, colour: bool, names: Names = no_names) -> None:
        self.out = out
        self.style = Style(colour)
        self.names = names

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def heading(self, text: str) -> None:
        self.line()
        self.line(self.style.bold(f"━━ {text}"))

    def note(self, text: str) -> None:
        self.line(f"   {self.style.dim(text)}")

    def command(self, who: str, command: str, options: Mapping[str, Any] | None = None) -> None:
        typed = " ".join([f"/{command}", *(f"{k}:{v}" for k, v in (options or {}).items())])
        self.line()
        self.line(f"{self.style.bold(who)} ▸ {self.style.code(typed)}")

    def action(self, who: str, what: str) -> None:
        self.line()
        self.line(f"{self.style.bold(who)} ▸ {what}")

    def message(self, message: StandInMessage, *, caption: str = "Encore") -> None:
        self.line(f"  {self.style.accent(caption)}")
        for text in render_message(message, self.style, self.names):
            self.line(f"  │ {text}".rstrip())
