"""The command list the bot syncs to Discord: unique names, and the payload kept as published.

`synced_commands.json` is the payload members' clients know. A change to it is a change of the
public interface: make it on purpose, then refresh the file with
`ENCORE_WRITE_COMMANDS=1 .venv/bin/pytest tests/cogs/test_commands.py`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.world import World

pytestmark = pytest.mark.e2e

SNAPSHOT = Path(__file__).with_name("synced_commands.json")
ASSIGNED_BY_DISCORD = ("id", "application_id", "version")
CHAT_INPUT = 1
SUBCOMMAND, GROUP = 1, 2


def published(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payload without what Discord assigns on its side, in name order."""
    kept = [{k: v for k, v in c.items() if k not in ASSIGNED_BY_DISCORD} for c in commands]
    return sorted(kept, key=lambda c: (c["type"], c["name"]))


def _leaves(prefix: str, node: dict[str, Any]) -> Iterator[str]:
    subs = [o for o in node.get("options") or [] if o["type"] in (SUBCOMMAND, GROUP)]
    if not subs:
        yield prefix
    for sub in subs:
        yield from _leaves(f"{prefix} {sub['name']}", sub)


def qualified_names(commands: list[dict[str, Any]]) -> Iterator[str]:
    """Full names of what members can run ("top artists", "link"); context-menu commands carry
    their type, since they may share a slash command's name."""
    for command in commands:
        slash = command["type"] == CHAT_INPUT
        yield from _leaves(
            command["name"] if slash else f"{command['name']} ({command['type']})", command
        )


async def test_every_command_name_is_unique(world: World) -> None:
    commands = world.discord.registered_commands()
    top_level = Counter((c["type"], c["name"]) for c in commands)
    assert [key for key, n in top_level.items() if n > 1] == []
    names = Counter(qualified_names(commands))
    assert [name for name, n in names.items() if n > 1] == []
    assert {"top artists", "leaderboard tracks", "saved tracks", "chart"} <= set(names)


async def test_synced_commands_are_the_published_ones(world: World) -> None:
    synced = published(world.discord.registered_commands())
    if os.environ.get("ENCORE_WRITE_COMMANDS"):
        SNAPSHOT.write_text(json.dumps(synced, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert synced == json.loads(SNAPSHOT.read_text())


async def test_time_range_options_offer_the_three_spotify_periods(world: World) -> None:
    ranges = [
        option
        for command in world.discord.registered_commands()
        for option in _all_options(command)
        if option["name"] == "time_range"
    ]
    # /top ×3, /leaderboard ×3, /whoknows ×3, /compat, /chart, /serverplaylist
    assert len(ranges) == 12
    for option in ranges:
        assert option["type"] == 3 and not option.get("required")
        assert [c["value"] for c in option["choices"]] == ["short_term", "medium_term", "long_term"]


async def test_ranking_commands_offer_periods_beside_time_ranges(world: World) -> None:
    commands = {c["name"]: c for c in world.discord.registered_commands()}
    rankings = [
        *(commands["top"]["options"]),
        *(commands["leaderboard"]["options"]),
        *(commands["whoknows"]["options"]),
        commands["compat"],
    ]
    assert len(rankings) == 10
    for command in rankings:
        options = {option["name"]: option for option in command["options"]}
        assert "time_range" in options, command["name"]
        period = options["period"]
        assert period["type"] == 3 and not period.get("required")
        assert [c["value"] for c in period["choices"]] == ["week", "month", "year", "all"]


def _all_options(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for option in node.get("options") or []:
        yield option
        yield from _all_options(option)
