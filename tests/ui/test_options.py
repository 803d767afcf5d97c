"""The time-range option: published as Spotify's names, received as a TimeRange."""

from __future__ import annotations

from typing import cast

import discord
import pytest
from discord import app_commands

from bot.domain import DEFAULT_TIME_RANGE, TimeRange
from bot.ui.options import TIME_RANGE_HELP, TimeRangeOption, TimeRangeParam


@app_commands.command(name="probe", description="A command with a period option")
@app_commands.describe(time_range=TIME_RANGE_HELP)
async def probe(
    interaction: discord.Interaction, time_range: TimeRangeParam = DEFAULT_TIME_RANGE
) -> None:
    """Only its declared option is looked at."""


def test_the_option_is_an_optional_string_with_spotify_names_as_values() -> None:
    option = probe.to_dict(
        app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    )["options"][0]
    assert option["type"] == discord.AppCommandOptionType.string.value
    assert option["required"] is False
    assert option["description"] == "Which period (default: last 6 months)"
    assert [(c["name"], c["value"]) for c in option["choices"]] == [
        ("Last 4 weeks", "short_term"),
        ("Last 6 months", "medium_term"),
        ("Last year", "long_term"),
    ]
    assert probe.get_parameter("time_range").default is TimeRange.MEDIUM


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("short_term", TimeRange.SHORT),
        ("medium_term", TimeRange.MEDIUM),
        ("long_term", TimeRange.LONG),
    ],
)
async def test_a_chosen_value_arrives_as_its_time_range(value: str, expected: TimeRange) -> None:
    interaction = cast(discord.Interaction, None)
    assert await TimeRangeOption().transform(interaction, value) is expected


async def test_a_value_outside_the_choices_is_refused() -> None:
    with pytest.raises(ValueError, match="forever"):
        await TimeRangeOption().transform(cast(discord.Interaction, None), "forever")
