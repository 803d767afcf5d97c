"""Discord's limits on messages, autocomplete choices and commands."""

from typing import Any

import pytest

from sandbox.discord_validation import (
    InvalidFormBody,
    choices_problems,
    command_problems,
    message_problems,
)


def button(custom_id: str) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": custom_id, "custom_id": custom_id}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def test_a_full_but_valid_message_passes() -> None:
    embed = {
        "title": "t" * 256,
        "description": "d" * 4096,
        "fields": [{"name": "n", "value": "v" * 1024}],
        "footer": {"text": "f"},
    }
    link = {"type": 2, "style": 5, "label": "Open", "url": "https://open.spotify.com/"}
    data = {"content": "c" * 2000, "embeds": [embed], "components": [row(button("a"), link)]}

    assert message_problems(data, attachments=10) == []


@pytest.mark.parametrize(
    ("data", "attachments", "path"),
    [
        ({"content": "c" * 2001}, 0, "content"),
        ({"embeds": [{"title": "t"}] * 11}, 0, "embeds"),
        ({"embeds": [{"description": "d" * 3001}, {"description": "d" * 3000}]}, 0, "embeds"),
        ({"embeds": [{"title": "t" * 257}]}, 0, "embeds.0.title"),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
            0,
            "embeds.0.fields.0.value",
        ),
        ({"embeds": [{"fields": [{"name": "n", "value": ""}]}]}, 0, "embeds.0.fields.0.value"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, 0, "embeds.0.fields"),
        ({"components": [row(button("a"))] * 6}, 0, "components"),
        ({"components": [row(*(button(str(i)) for i in range(6)))]}, 0, "components.0.components"),
        ({"components": [row(button("a"), button("a"))]}, 0, "components.custom_id"),
        ({"components": [row({"type": 2, "style": 1, "label": "x"})]}, 0, "components.custom_id"),
        ({"content": "x"}, 11, "attachments"),
    ],
)
def test_message_over_a_limit_is_refused(data: dict[str, Any], attachments: int, path: str) -> None:
    assert path in [p for p, _ in message_problems(data, attachments=attachments)]


def test_autocomplete_choices_are_limited() -> None:
    choices = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]
    choices[0] = {"name": "", "value": "v" * 101}

    paths = [p for p, _ in choices_problems(choices)]

    assert paths == ["data.choices", "data.choices.0.name", "data.choices.0.value"]


def command(**changes: Any) -> dict[str, Any]:
    return {"name": "ping", "description": "Ping", **changes}


def option(kind: int = 3, **changes: Any) -> dict[str, Any]:
    return {"type": kind, "name": "text", "description": "Text", **changes}


def test_valid_commands_pass() -> None:
    user_menu = {"type": 2, "name": "Show Profile", "description": ""}
    group = option(2, name="group", options=[option(1, name="sub", options=[option()])])

    assert command_problems([command(options=[group]), user_menu]) == []


@pytest.mark.parametrize(
    "commands",
    [
        [command(name="Ping")],
        [command(name="two words")],
        [command(description="")],
        [command(description="d" * 101)],
        [command(), command()],
        [command(options=[option(required=False), option(name="b", required=True)])],
        [command(options=[option(autocomplete=True, choices=[{"name": "a", "value": "a"}])])],
        [command(options=[option(5, autocomplete=True)])],
        [command(options=[option(1, name="sub"), option(name="plain")])],
        [command(options=[option(1, options=[option(1, name="deeper")])])],
        [command(options=[option(name=f"o{i}") for i in range(26)])],
        [command(options=[option(12)])],
        [command(options=[option(2, options=[option()])])],
        [command(options=[option(2, options=[option(2, name="inner")])])],
        [command(name=f"c{i}") for i in range(101)],
        [{"type": 3, "name": "Quote", "description": "not allowed"}],
    ],
)
def test_invalid_commands_are_refused(commands: list[dict[str, Any]]) -> None:
    assert command_problems(commands)


def test_invalid_form_body_nests_errors_like_discord() -> None:
    error = InvalidFormBody([("0.options.1.name", "Bad name")])

    assert error.payload() == {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "0": {
                "options": {
                    "1": {"name": {"_errors": [{"code": "INVALID", "message": "Bad name"}]}}
                }
            }
        },
    }
