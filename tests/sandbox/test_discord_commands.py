"""Command registry and interaction data built against the registered schema."""

from typing import Any

import pytest

from sandbox.discord_commands import CommandRegistry, command_data
from sandbox.discord_models import (
    StandInChannel,
    StandInMember,
    StandInUser,
)
from sandbox.discord_validation import InvalidFormBody

GUILD_ID = 7
ALICE = StandInUser(11, "alice")
OUTSIDER = StandInUser(12, "outsider")
CHANNEL = StandInChannel(21, "general", guild_id=GUILD_ID)

TOP: dict[str, Any] = {
    "name": "top",
    "description": "Top items",
    "options": [
        {
            "type": 1,
            "name": "artists",
            "description": "Top artists",
            "options": [
                {
                    "type": 3,
                    "name": "time_range",
                    "description": "Range",
                    "required": True,
                    "choices": [
                        {"name": "4 weeks", "value": "short_term"},
                        {"name": "6 months", "value": "medium_term"},
                    ],
                },
                {"type": 6, "name": "member", "description": "Whose"},
                {
                    "type": 4,
                    "name": "limit",
                    "description": "How many",
                    "min_value": 1,
                    "max_value": 50,
                },
                {"type": 3, "name": "artist", "description": "Artist", "autocomplete": True},
            ],
        },
        {
            "type": 2,
            "name": "stats",
            "description": "Stats",
            "options": [{"type": 1, "name": "me", "description": "Mine"}],
        },
    ],
}


class Resolver:
    def user(self, value: StandInUser | int) -> StandInUser:
        user_id = value.id if isinstance(value, StandInUser) else value
        return {u.id: u for u in (ALICE, OUTSIDER)}[user_id]

    def member(self, guild_id: int, user_id: int) -> StandInMember | None:
        return StandInMember(ALICE, "2024-01-01T00:00:00+00:00") if user_id == ALICE.id else None

    def channel(self, value: StandInChannel | int) -> StandInChannel:
        return CHANNEL


def registered(registry: CommandRegistry | None = None) -> dict[str, Any]:
    registry = registry or CommandRegistry(1, iter(range(100, 200)).__next__)
    (top,) = registry.overwrite(GUILD_ID, [TOP])
    return top


def data(path: str, values: dict[str, Any], focused: str | None = None) -> dict[str, Any]:
    return command_data(
        registered(), path.split(), values, guild_id=GUILD_ID, resolver=Resolver(), focused=focused
    )


def test_overwrite_keeps_ids_by_name_and_counts_syncs() -> None:
    registry = CommandRegistry(1, iter(range(100, 200)).__next__)
    ping = {"name": "ping", "description": "Ping"}

    (first,) = registry.overwrite(None, [ping])
    second, pong = registry.overwrite(None, [ping, {**ping, "name": "pong"}])

    assert second["id"] == first["id"]
    assert pong["id"] != first["id"]
    assert second["application_id"] == "1"
    assert registry.sync_count(None) == 2
    assert registry.sync_count(GUILD_ID) == 0
    assert registry.in_scope(GUILD_ID) == []


def test_guild_command_shadows_the_global_one_in_its_guild() -> None:
    registry = CommandRegistry(1, iter(range(100, 200)).__next__)
    registry.overwrite(None, [{"name": "ping", "description": "Global"}])
    registry.overwrite(GUILD_ID, [{"name": "ping", "description": "Guild"}])

    assert registry.resolve("ping", GUILD_ID)["description"] == "Guild"
    assert registry.resolve("ping", None)["description"] == "Global"
    with pytest.raises(LookupError, match="registered: \\['ping'\\]"):
        registry.resolve("pong", None)


def test_invalid_overwrite_changes_nothing() -> None:
    registry = CommandRegistry(1, iter(range(100, 200)).__next__)
    registry.overwrite(None, [{"name": "ping", "description": "Ping"}])

    with pytest.raises(InvalidFormBody):
        registry.overwrite(None, [{"name": "Ping!", "description": "Bad"}])

    assert [c["name"] for c in registry.in_scope(None)] == ["ping"]
    assert registry.sync_count(None) == 1


def test_options_nest_under_their_sub_command() -> None:
    built = data("top artists", {"time_range": "short_term", "limit": 5})

    assert built["name"] == "top"
    assert built["guild_id"] == str(GUILD_ID)
    assert built["options"] == [
        {
            "type": 1,
            "name": "artists",
            "options": [
                {"type": 3, "name": "time_range", "value": "short_term"},
                {"type": 4, "name": "limit", "value": 5},
            ],
        }
    ]
    assert "resolved" not in built


def test_group_path_reaches_the_sub_command() -> None:
    built = data("top stats me", {})

    assert built["options"] == [
        {"type": 2, "name": "stats", "options": [{"type": 1, "name": "me", "options": []}]}
    ]


def test_user_option_is_an_id_with_resolved_user_and_member() -> None:
    built = data("top artists", {"time_range": "short_term", "member": ALICE})

    assert built["options"][0]["options"][1] == {"type": 6, "name": "member", "value": "11"}
    assert built["resolved"]["users"]["11"]["username"] == "alice"
    member = built["resolved"]["members"]["11"]
    assert "user" not in member
    assert int(member["permissions"]) > 0


def test_user_outside_the_guild_is_resolved_without_member() -> None:
    built = data("top artists", {"time_range": "short_term", "member": OUTSIDER.id})

    assert set(built["resolved"]["users"]) == {"12"}
    assert "members" not in built["resolved"]


def test_focused_option_is_sent_as_typed() -> None:
    built = data("top artists", {"artist": "daf"}, focused="artist")

    assert built["options"][0]["options"] == [
        {"type": 3, "name": "artist", "value": "daf", "focused": True}
    ]


@pytest.mark.parametrize(
    ("path", "values", "error", "message"),
    [
        ("top artists", {"time_range": "short_term", "colour": "red"}, ValueError, "no option"),
        ("top artists", {}, ValueError, "required option 'time_range'"),
        ("top artists", {"time_range": "yearly"}, ValueError, "not one of the choices"),
        ("top artists", {"time_range": 3}, TypeError, "takes a str"),
        ("top artists", {"time_range": "short_term", "limit": 51}, ValueError, "outside"),
        ("top artists", {"time_range": "short_term", "limit": True}, TypeError, "an int"),
        ("top tracks", {}, LookupError, "no sub-command 'tracks'"),
        ("top stats", {}, LookupError, "needs a sub-command"),
    ],
)
def test_values_outside_the_schema_are_refused(
    path: str, values: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        data(path, values)


def test_only_autocomplete_options_can_be_focused() -> None:
    with pytest.raises(ValueError, match="does not autocomplete"):
        data("top artists", {"time_range": "sh"}, focused="time_range")
