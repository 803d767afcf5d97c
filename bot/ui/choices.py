"""Autocomplete choices within Discord's limits."""

from __future__ import annotations

from collections.abc import Iterable

from discord import app_commands

from bot.ui import limits
from bot.ui.text import one_line, text_length, truncate


def autocomplete_choices(pairs: Iterable[tuple[str, str]]) -> list[app_commands.Choice[str]]:
    """At most 25 choices from `(name, value)` pairs, names cut to 100.

    A value longer than 100 is skipped rather than cut, since a cut value would point
    somewhere else; an empty name shows the value instead.
    """
    choices: list[app_commands.Choice[str]] = []
    for name, value in pairs:
        if not value or text_length(value) > limits.CHOICE_VALUE:
            continue
        shown = truncate(one_line(name) or value, limits.CHOICE_NAME)
        choices.append(app_commands.Choice(name=shown, value=value))
        if len(choices) == limits.AUTOCOMPLETE_CHOICES:
            break
    return choices
