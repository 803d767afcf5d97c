"""Slash-command option types: what members pick from, turned into domain values for the cogs."""

from __future__ import annotations

from typing import TypeAlias

import discord
from discord import app_commands

from bot.domain import DEFAULT_TIME_RANGE, Period, TimeRange

TIME_RANGE_HELP = f"Which period (default: {DEFAULT_TIME_RANGE.words})"
RANKING_TIME_RANGE_HELP = "Rank by Spotify's top lists over this range"
PERIOD_HELP = "Rank by plays over this period (default: plays if any lately, else top lists)"


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


class TimeRangeOption(app_commands.Transformer):
    """A string option whose choices carry Spotify's names ("short_term", ...), so the published
    command stays what clients know; the command receives a `TimeRange`."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def choices(self) -> list[app_commands.Choice[int | float | str]]:
        return [
            app_commands.Choice(name=_sentence(period.words), value=period.api_name)
            for period in TimeRange
        ]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> TimeRange:
        return TimeRange.from_name(value)


TimeRangeParam: TypeAlias = app_commands.Transform[TimeRange, TimeRangeOption]
"""Annotate a command parameter with this (default `DEFAULT_TIME_RANGE`) to offer the periods."""


class PeriodOption(app_commands.Transformer):
    """A string option with the plays periods (`week`, `month`, `year`, `all`); the command
    receives a `Period`."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def choices(self) -> list[app_commands.Choice[int | float | str]]:
        return [
            app_commands.Choice(name=_sentence(period.words), value=period.value)
            for period in Period
        ]

    async def transform(self, interaction: discord.Interaction, value: str, /) -> Period:
        return Period(value)


PeriodParam: TypeAlias = app_commands.Transform[Period, PeriodOption]
"""Annotate an optional command parameter with this to offer the plays periods."""
