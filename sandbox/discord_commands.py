"""Registered application commands, and interaction data built against their schema."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sandbox.discord_models import (
    MEMBER_PERMISSIONS,
    Json,
    StandInChannel,
    StandInMember,
    StandInUser,
)
from sandbox.discord_validation import command_problems, raise_problems

CHAT_INPUT = 1
SUBCOMMAND = 1
SUBCOMMAND_GROUP = 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 9, 10


class Resolver(Protocol):
    """Looks up the objects an option value may name."""

    def user(self, value: StandInUser | int) -> StandInUser: ...

    def member(self, guild_id: int, user_id: int) -> StandInMember | None: ...

    def channel(self, value: StandInChannel | int) -> StandInChannel: ...


class CommandRegistry:
    """Global commands (scope None) and per-guild commands, as the bot last synced them."""

    def __init__(self, application_id: int, new_id: Callable[[], int]) -> None:
        self._application_id = application_id
        self._new_id = new_id
        self._scopes: dict[int | None, list[Json]] = {}
        self._syncs: Counter[int | None] = Counter()

    def in_scope(self, guild_id: int | None) -> list[Json]:
        return copy.deepcopy(self._scopes.get(guild_id, []))

    def sync_count(self, guild_id: int | None) -> int:
        return self._syncs[guild_id]

    def overwrite(self, guild_id: int | None, commands: list[Json]) -> list[Json]:
        raise_problems(command_problems(commands))
        old = {_key(c): c for c in self._scopes.get(guild_id, [])}
        self._scopes[guild_id] = [self._stored(guild_id, c, old.get(_key(c))) for c in commands]
        self._syncs[guild_id] += 1
        return self.in_scope(guild_id)

    def upsert(self, guild_id: int | None, command: Json) -> tuple[Json, bool]:
        """Create or replace one command by name and type; True when it is new."""
        commands = self._scopes.setdefault(guild_id, [])
        raise_problems(
            command_problems([*(c for c in commands if _key(c) != _key(command)), command])
        )
        previous = next((c for c in commands if _key(c) == _key(command)), None)
        stored = self._stored(guild_id, command, previous)
        if previous is None:
            commands.append(stored)
        else:
            commands[commands.index(previous)] = stored
        return copy.deepcopy(stored), previous is None

    def get(self, guild_id: int | None, command_id: int) -> Json | None:
        found = self._find(guild_id, command_id)
        return copy.deepcopy(found) if found else None

    def edit(self, guild_id: int | None, command_id: int, changes: Json) -> Json | None:
        found = self._find(guild_id, command_id)
        if found is None:
            return None
        updated = {**found, **changes}
        others = [c for c in self._scopes[guild_id] if c is not found]
        raise_problems(command_problems([*others, updated]))
        return self.upsert(guild_id, updated)[0]

    def delete(self, guild_id: int | None, command_id: int) -> bool:
        found = self._find(guild_id, command_id)
        if found is not None:
            self._scopes[guild_id].remove(found)
        return found is not None

    def resolve(self, name: str, guild_id: int | None) -> Json:
        """The chat-input command `name` a member in `guild_id` (None: a DM) can see."""
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self._scopes.get(scope, []):
                if command["name"] == name and command.get("type", CHAT_INPUT) == CHAT_INPUT:
                    return command
        known = sorted({c["name"] for s in scopes for c in self._scopes.get(s, [])})
        raise LookupError(f"no registered command /{name} here; registered: {known}")

    def _find(self, guild_id: int | None, command_id: int) -> Json | None:
        commands = self._scopes.get(guild_id, [])
        return next((c for c in commands if int(c["id"]) == command_id), None)

    def _stored(self, guild_id: int | None, command: Json, previous: Json | None) -> Json:
        stored: Json = {
            "type": CHAT_INPUT,
            "description": "",
            "default_member_permissions": None,
            "nsfw": False,
            "integration_types": [0],
            "contexts": None,
            "name_localizations": None,
            "description_localizations": None,
            **copy.deepcopy(command),
            "id": previous["id"] if previous else str(self._new_id()),
            "application_id": str(self._application_id),
            "version": str(self._new_id()),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored


def _key(command: Json) -> tuple[str, int]:
    return str(command.get("name")), int(command.get("type") or CHAT_INPUT)


def command_data(
    command: Json,
    path: list[str],
    values: Mapping[str, Any],
    *,
    guild_id: int | None,
    resolver: Resolver,
    focused: str | None = None,
) -> Json:
    """The `data` of an APPLICATION_COMMAND (or, with `focused`, AUTOCOMPLETE) interaction."""
    chain: list[Json] = []
    node = command
    for part in path[1:]:
        sub = next(
            (
                o
                for o in node.get("options") or []
                if o["name"] == part and o["type"] in (SUBCOMMAND, SUBCOMMAND_GROUP)
            ),
            None,
        )
        if sub is None:
            raise LookupError(f"/{' '.join(path)}: {node['name']!r} has no sub-command {part!r}")
        chain.append(sub)
        node = sub
    subcommands = [o["name"] for o in node.get("options") or [] if o["type"] in (1, 2)]
    if subcommands:
        raise LookupError(f"/{' '.join(path)} needs a sub-command: one of {subcommands}")

    resolved: Json = {}
    options = _leaf_options(node, values, guild_id, resolver, resolved, focused, " ".join(path))
    for sub in reversed(chain):
        options = [{"type": sub["type"], "name": sub["name"], "options": options}]
    data: Json = {
        "id": command["id"],
        "name": command["name"],
        "type": CHAT_INPUT,
        "options": options,
    }
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    if resolved and focused is None:
        data["resolved"] = resolved
    return data


def _leaf_options(
    node: Json,
    values: Mapping[str, Any],
    guild_id: int | None,
    resolver: Resolver,
    resolved: Json,
    focused: str | None,
    where: str,
) -> list[Json]:
    schema = {o["name"]: o for o in node.get("options") or []}
    unknown = set(values) - set(schema)
    if unknown:
        raise ValueError(f"/{where} has no option {sorted(unknown)}; options: {sorted(schema)}")
    if focused is not None and not schema.get(focused, {}).get("autocomplete"):
        raise ValueError(f"/{where}: option {focused!r} does not autocomplete")
    options: list[Json] = []
    for name, option in schema.items():
        if name not in values:
            if option.get("required") and focused is None:
                raise ValueError(f"/{where}: required option {name!r} is missing")
            continue
        value = values[name]
        if name == focused:
            typed = {"type": option["type"], "name": name, "value": str(value), "focused": True}
            options.append(typed)
            continue
        wire = _wire_value(option, value, guild_id, resolver, resolved, where)
        options.append({"type": option["type"], "name": name, "value": wire})
    return options


def _wire_value(
    option: Json, value: Any, guild_id: int | None, resolver: Resolver, resolved: Json, where: str
) -> Any:
    kind = option["type"]
    name = f"/{where} {option['name']}"
    if kind == STRING:
        _expect(isinstance(value, str), name, "a str", value)
        if not option.get("min_length", 0) <= len(value) <= option.get("max_length", 6000):
            raise ValueError(f"{name}: length {len(value)} is outside the allowed range")
    elif kind == INTEGER:
        _expect(isinstance(value, int) and not isinstance(value, bool), name, "an int", value)
    elif kind == NUMBER:
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        _expect(is_number, name, "a number", value)
        value = float(value)
    elif kind == BOOLEAN:
        _expect(isinstance(value, bool), name, "a bool", value)
    elif kind in (USER, MENTIONABLE):
        return str(_resolve_user(value, guild_id, resolver, resolved))
    elif kind == CHANNEL:
        channel = resolver.channel(value)
        data = {**channel.payload(), "permissions": str(MEMBER_PERMISSIONS)}
        resolved.setdefault("channels", {})[str(channel.id)] = data
        return str(channel.id)
    else:
        raise ValueError(f"{name}: option type {kind} is not supported by the stand-in")
    if kind in (INTEGER, NUMBER):
        low, high = option.get("min_value"), option.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{name}: {value} is outside [{low}, {high}]")
    choices = [c["value"] for c in option.get("choices") or []]
    if choices and value not in choices:
        raise ValueError(f"{name}: {value!r} is not one of the choices {choices}")
    return value


def _expect(ok: bool, name: str, wanted: str, value: Any) -> None:
    if not ok:
        raise TypeError(f"{name} takes {wanted}, not {value!r}")


def _resolve_user(
    value: StandInUser | int, guild_id: int | None, resolver: Resolver, resolved: Json
) -> int:
    user = resolver.user(value)
    resolved.setdefault("users", {})[str(user.id)] = user.payload()
    member = resolver.member(guild_id, user.id) if guild_id is not None else None
    if member is not None:
        data = {**member.payload(with_user=False), "permissions": str(member.permissions)}
        resolved.setdefault("members", {})[str(user.id)] = data
    return user.id
