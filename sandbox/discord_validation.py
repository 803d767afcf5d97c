"""Discord's documented limits, checked the way Discord answers: 400, code 50035.

The stand-in refuses what Discord would refuse, so an end-to-end test catches a too-long
embed or a malformed command before a real server does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sandbox.discord_models import Json, iter_components

Problem = tuple[str, str]
"""(path in the request body, what is wrong)"""

_CHAT_INPUT_NAME = re.compile(r"^[-_\w]{1,32}$")
_SUBCOMMAND = 1
_GROUP = 2
_STRING = 3


class InvalidFormBody(Exception):
    """A request body Discord would refuse."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{path}: {text}" for path, text in problems))
        self.problems = problems

    def payload(self) -> Json:
        errors: Json = {}
        for path, text in self.problems:
            node = errors
            for part in path.split("."):
                node = node.setdefault(part, {})
            node.setdefault("_errors", []).append({"code": "INVALID", "message": text})
        return {"code": 50035, "message": "Invalid Form Body", "errors": errors}


def raise_problems(problems: list[Problem]) -> None:
    if problems:
        raise InvalidFormBody(problems)


def _too_long(path: str, value: Any, limit: int) -> Iterator[Problem]:
    if value is not None and len(str(value)) > limit:
        yield path, f"Must be {limit} or fewer in length (got {len(str(value))})."


def message_problems(data: Json, *, attachments: int) -> list[Problem]:
    problems: list[Problem] = list(_too_long("content", data.get("content"), 2000))
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        problems.append(("embeds", "Must be 10 or fewer in length."))
    total = 0
    for i, embed in enumerate(embeds):
        problems.extend(_embed_problems(f"embeds.{i}", embed))
        total += _embed_length(embed)
    if total > 6000:
        problems.append(("embeds", f"Embed size exceeds maximum size of 6000 (got {total})."))
    problems.extend(_component_problems(data.get("components") or []))
    if attachments > 10:
        problems.append(("attachments", "Must be 10 or fewer in length."))
    return problems


def _embed_length(embed: Json) -> int:
    parts = [embed.get("title"), embed.get("description")]
    parts += [(embed.get("footer") or {}).get("text"), (embed.get("author") or {}).get("name")]
    for field in embed.get("fields") or []:
        parts += [field.get("name"), field.get("value")]
    return sum(len(str(p)) for p in parts if p)


def _embed_problems(path: str, embed: Json) -> Iterator[Problem]:
    yield from _too_long(f"{path}.title", embed.get("title"), 256)
    yield from _too_long(f"{path}.description", embed.get("description"), 4096)
    yield from _too_long(f"{path}.footer.text", (embed.get("footer") or {}).get("text"), 2048)
    yield from _too_long(f"{path}.author.name", (embed.get("author") or {}).get("name"), 256)
    fields = embed.get("fields") or []
    if len(fields) > 25:
        yield f"{path}.fields", "Must be 25 or fewer in length."
    for i, field in enumerate(fields):
        for key, limit in (("name", 256), ("value", 1024)):
            value = field.get(key)
            if not value:
                yield f"{path}.fields.{i}.{key}", "This field is required"
            yield from _too_long(f"{path}.fields.{i}.{key}", value, limit)


def _component_problems(components: list[Json]) -> Iterator[Problem]:
    rows = [c for c in components if c.get("type") == 1]
    if len(rows) > 5:
        yield "components", "Must be 5 or fewer in length."
    for i, row in enumerate(rows):
        if len(row.get("components") or []) > 5:
            yield f"components.{i}.components", "Must be 5 or fewer in length."
    custom_ids: set[str] = set()
    for component in iter_components(components):
        if component.get("type") == 2:
            yield from _too_long("components.label", component.get("label"), 80)
            link = component.get("style") == 5
            if link and not component.get("url"):
                yield "components.url", "A link button needs a url."
            if not link and not component.get("custom_id"):
                yield "components.custom_id", "A button needs a custom_id."
        custom_id = component.get("custom_id")
        if custom_id is not None:
            yield from _too_long("components.custom_id", custom_id, 100)
            if custom_id in custom_ids:
                yield "components.custom_id", f"Component custom id {custom_id!r} is duplicated."
            custom_ids.add(custom_id)


def choices_problems(choices: list[Json]) -> list[Problem]:
    problems: list[Problem] = []
    if len(choices) > 25:
        problems.append(("data.choices", "Must be 25 or fewer in length."))
    for i, choice in enumerate(choices):
        name = str(choice.get("name") or "")
        if not 1 <= len(name) <= 100:
            problems.append((f"data.choices.{i}.name", "Must be between 1 and 100 in length."))
        value = choice.get("value")
        if isinstance(value, str):
            problems.extend(_too_long(f"data.choices.{i}.value", value, 100))
    return problems


def command_problems(commands: list[Json]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, int]] = set()
    counts: dict[int, int] = {}
    for i, command in enumerate(commands):
        kind = int(command.get("type") or 1)
        key = (str(command.get("name")), kind)
        if key in seen:
            problems.append((f"{i}.name", f"Application command names must be unique: {key[0]}"))
        seen.add(key)
        counts[kind] = counts.get(kind, 0) + 1
        problems.extend(_command_problems(str(i), command, kind))
    if counts.get(1, 0) > 100:
        problems.append(("_", "Maximum number of chat input commands reached (100)."))
    if counts.get(2, 0) > 5 or counts.get(3, 0) > 5:
        problems.append(("_", "Maximum number of user or message commands reached (5)."))
    return problems


def _command_problems(path: str, command: Json, kind: int) -> Iterator[Problem]:
    name = str(command.get("name") or "")
    description = str(command.get("description") or "")
    if kind == 1:
        yield from _name_problems(f"{path}.name", name)
        if not 1 <= len(description) <= 100:
            yield f"{path}.description", "Must be between 1 and 100 in length."
        yield from _options_problems(f"{path}.options", command.get("options") or [], parent=0)
        if _command_length(command) > 4000:
            yield path, "Command exceeds maximum size (4000)."
    else:
        if not 1 <= len(name) <= 32:
            yield f"{path}.name", "Must be between 1 and 32 in length."
        if description:
            yield f"{path}.description", "Context menu commands cannot have a description."


def _name_problems(path: str, name: str) -> Iterator[Problem]:
    if not _CHAT_INPUT_NAME.match(name) or name != name.lower():
        yield path, f"Invalid command name {name!r}: 1-32 lowercase letters, digits, - or _."


def _command_length(node: Json) -> int:
    length = len(str(node.get("name") or "")) + len(str(node.get("description") or ""))
    for choice in node.get("choices") or []:
        length += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return length + sum(_command_length(o) for o in node.get("options") or [])


def _options_problems(path: str, options: list[Json], *, parent: int) -> Iterator[Problem]:
    """Options of a command (`parent` 0), a sub-command group or a sub-command."""
    if len(options) > 25:
        yield path, "Must be 25 or fewer in length."
    names = [str(o.get("name") or "") for o in options]
    if len(set(names)) != len(names):
        yield path, "Option names must be unique."
    kinds = [int(o.get("type") or 0) for o in options]
    nested = [k in (_SUBCOMMAND, _GROUP) for k in kinds]
    if any(nested) and not all(nested):
        yield path, "Sub-commands and groups cannot be mixed with other options."
    seen_optional = False
    for i, (option, kind) in enumerate(zip(options, kinds, strict=True)):
        here = f"{path}.{i}"
        yield from _name_problems(f"{here}.name", names[i])
        if not 1 <= len(str(option.get("description") or "")) <= 100:
            yield f"{here}.description", "Must be between 1 and 100 in length."
        if not 1 <= kind <= 11:
            yield f"{here}.type", f"Unknown option type {kind}."
        if parent == _GROUP and kind != _SUBCOMMAND:
            yield f"{here}.type", "A sub-command group can only contain sub-commands."
        elif (kind == _GROUP and parent != 0) or (kind == _SUBCOMMAND and parent == _SUBCOMMAND):
            yield f"{here}.type", "Sub-commands nest at most: group > sub-command."
        if kind in (_SUBCOMMAND, _GROUP):
            yield from _options_problems(
                f"{here}.options", option.get("options") or [], parent=kind
            )
            continue
        if option.get("required"):
            if seen_optional:
                yield f"{here}.required", "Required options must be placed before optional ones."
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if choices and option.get("autocomplete"):
            yield f"{here}.autocomplete", "Autocomplete cannot be set with choices."
        if option.get("autocomplete") and kind not in (_STRING, 4, 10):
            yield f"{here}.autocomplete", "Only string, integer and number options autocomplete."
        for problem_path, text in choices_problems(choices):
            yield f"{here}.{problem_path.removeprefix('data.')}", text
