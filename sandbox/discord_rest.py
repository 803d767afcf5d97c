"""The stand-in's REST API under /api/v10: the routes discord.py uses for a slash-command bot."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.discord_interactions import (
    ALLOWED_CALLBACKS,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    UPDATE_MESSAGE,
    InteractionResponse,
    StandInInteraction,
)
from sandbox.discord_models import (
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    SETTABLE_FLAGS,
    Json,
    StandInChannel,
    StandInMessage,
    UploadedFile,
)
from sandbox.discord_state import World
from sandbox.discord_validation import (
    InvalidFormBody,
    choices_problems,
    message_problems,
    raise_problems,
)

API_PREFIX = "/api/v10"
CHANNEL_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
_NO_AUTH = ("/webhooks/", "/interactions/")
_TRUE = ("1", "true", "True")

_BODY = web.RequestKey("standin_body", object)
_FILES = web.RequestKey("standin_files", list[UploadedFile])
_UNKNOWN = web.RequestKey("standin_unknown", bool)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedRequest:
    """One REST request the bot made; `path` is relative to the API base (e.g. /users/@me)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[UploadedFile] = field(repr=False)
    status: int
    at: float


class DiscordError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _unknown(what: str, code: int) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


class Rest:
    def __init__(self, world: World, gateway_url: Callable[[], str]) -> None:
        self.world = world
        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.recommended_shards = 1
        self.interaction_deadline = 3.0
        self._gateway_url = gateway_url

    def routes(self) -> list[web.RouteDef]:
        p = API_PREFIX
        app = f"{p}/applications/{{app_id:\\d+}}"
        hook = f"{p}/webhooks/{{app_id:\\d+}}/{{token}}"
        channel = f"{p}/channels/{{channel_id:\\d+}}"
        guild = f"{p}/guilds/{{guild_id:\\d+}}"
        return [
            web.get(f"{p}/users/@me", self.me),
            web.get(f"{p}/users/{{user_id:\\d+}}", self.get_user),
            web.post(f"{p}/users/@me/channels", self.open_dm),
            web.get(f"{p}/oauth2/applications/@me", self.application),
            web.get(f"{p}/gateway", self.gateway),
            web.get(f"{p}/gateway/bot", self.gateway_bot),
            web.route("*", f"{app}/commands", self.commands),
            web.route("*", f"{app}/guilds/{{guild_id:\\d+}}/commands", self.commands),
            web.route("*", f"{app}/commands/{{command_id:\\d+}}", self.command),
            web.route(
                "*", f"{app}/guilds/{{guild_id:\\d+}}/commands/{{command_id:\\d+}}", self.command
            ),
            web.post(f"{p}/interactions/{{interaction_id:\\d+}}/{{token}}/callback", self.callback),
            web.post(hook, self.followup),
            web.route("*", f"{hook}/messages/{{message_id}}", self.webhook_message),
            web.get(channel, self.get_channel),
            web.route("*", f"{channel}/messages", self.channel_messages),
            web.route("*", f"{channel}/messages/{{message_id:\\d+}}", self.channel_message),
            web.post(f"{channel}/typing", self.typing),
            web.get(guild, self.get_guild),
            web.get(f"{guild}/channels", self.guild_channels),
            web.get(f"{guild}/members", self.guild_members),
            web.get(f"{guild}/members/{{user_id:\\d+}}", self.guild_member),
            web.get(f"{guild}/roles", self.guild_roles),
            web.get("/attachments/{channel_id:\\d+}/{attachment_id:\\d+}/{name}", self.attachment),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)
        body, files = await _parse_body(request)
        request[_BODY], request[_FILES] = body, files
        path = request.path.removeprefix(API_PREFIX)
        try:
            if request.path.startswith(API_PREFIX):
                self._authorize(request, path)
            response = await handler(request)
        except DiscordError as error:
            response = _json({"message": error.message, "code": error.code}, status=error.status)
        except InvalidFormBody as error:
            response = _json(error.payload(), status=400)
        except web.HTTPNotFound:
            request[_UNKNOWN] = True
            response = _json({"message": "404: Not Found", "code": 0}, status=404)
        recorded = RecordedRequest(
            request.method,
            path,
            dict(request.query),
            body,
            files,
            response.status,
            time.monotonic(),
        )
        self.requests.append(recorded)
        if request.get(_UNKNOWN):
            self.unknown_requests.append(recorded)
        self.world.changes.notify()
        return response

    async def unknown(self, request: web.Request) -> web.StreamResponse:
        request[_UNKNOWN] = True
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _authorize(self, request: web.Request, path: str) -> None:
        if path.startswith(_NO_AUTH):
            return
        if request.headers.get("Authorization") != f"Bot {self.world.token}":
            raise DiscordError(401, 0, "401: Unauthorized")

    # users, application, gateway

    async def me(self, request: web.Request) -> web.StreamResponse:
        return _json({**self.world.bot.payload(), "verified": True})

    async def get_user(self, request: web.Request) -> web.StreamResponse:
        user = self.world.users.get(int(request.match_info["user_id"]))
        if user is None:
            raise _unknown("User", 10013)
        return _json(user.payload())

    async def open_dm(self, request: web.Request) -> web.StreamResponse:
        recipient = self.world.users.get(int(_body(request).get("recipient_id") or 0))
        if recipient is None:
            raise _unknown("User", 10013)
        return _json(self.world.dm_channel(recipient).payload())

    async def application(self, request: web.Request) -> web.StreamResponse:
        return _json(self.world.application_payload())

    async def gateway(self, request: web.Request) -> web.StreamResponse:
        return _json({"url": self._gateway_url()})

    async def gateway_bot(self, request: web.Request) -> web.StreamResponse:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        payload = {
            "url": self._gateway_url(),
            "shards": self.recommended_shards,
            "session_start_limit": limit,
        }
        return _json(payload)

    # application commands

    def _scope(self, request: web.Request) -> int | None:
        if int(request.match_info["app_id"]) != self.world.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        if guild_id is not None and int(guild_id) not in self.world.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return int(guild_id) if guild_id is not None else None

    async def commands(self, request: web.Request) -> web.StreamResponse:
        scope = self._scope(request)
        registry = self.world.commands
        if request.method == "GET":
            return _json(registry.in_scope(scope))
        if request.method == "PUT":
            body = request[_BODY]
            if not isinstance(body, list):
                raise InvalidFormBody([("_", "Expected a list of commands.")])
            return _json(registry.overwrite(scope, body))
        if request.method == "POST":
            command, created = registry.upsert(scope, _body(request))
            return _json(command, status=201 if created else 200)
        raise web.HTTPNotFound

    async def command(self, request: web.Request) -> web.StreamResponse:
        scope = self._scope(request)
        command_id = int(request.match_info["command_id"])
        registry = self.world.commands
        if request.method == "GET":
            found = registry.get(scope, command_id)
        elif request.method == "PATCH":
            found = registry.edit(scope, command_id, _body(request))
        elif request.method == "DELETE":
            found = {} if registry.delete(scope, command_id) else None
        else:
            raise web.HTTPNotFound
        if found is None:
            raise _unknown("application command", 10063)
        return _json(found) if found else web.Response(status=204)

    # interactions and their webhook

    async def callback(self, request: web.Request) -> web.StreamResponse:
        interaction = self.world.interactions.get(request.match_info["token"])
        if (
            interaction is None
            or interaction.id != int(request.match_info["interaction_id"])
            or time.monotonic() - interaction.created_at > self.interaction_deadline
        ):
            raise _unknown("interaction", 10062)
        if interaction.response is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body = _body(request)
        kind = body.get("type")
        if kind not in ALLOWED_CALLBACKS[interaction.type]:
            raise InvalidFormBody([("type", f"Callback type {kind} is not valid here.")])
        data: Json = body.get("data") or {}
        self._respond(interaction, int(kind), data, request[_FILES])
        interaction.response = InteractionResponse(int(kind), body.get("data"))
        if request.query.get("with_response") in _TRUE:
            return _json(interaction.callback_response(int(kind)))
        return web.Response(status=204)

    def _respond(
        self, interaction: StandInInteraction, kind: int, data: Json, files: list[UploadedFile]
    ) -> None:
        channel = self.world.channel(interaction.channel_id)
        if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            raise_problems(message_problems(data, attachments=len(files)))
        if kind == CHANNEL_MESSAGE:
            interaction.original = self._new_message(channel, data, files, interaction)
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = (int(data.get("flags") or 0) & FLAG_EPHEMERAL) | FLAG_LOADING
            interaction.original = self.world.new_message(
                channel, {"flags": flags}, [], flags_mask=flags, interaction=interaction
            )
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and interaction.source:
            interaction.original = interaction.source
            if kind == UPDATE_MESSAGE:
                interaction.source.edit(data, files)
        elif kind == AUTOCOMPLETE_RESULT:
            choices = list(data.get("choices") or [])
            raise_problems(choices_problems(choices))
            interaction.choices = choices

    def _new_message(
        self,
        channel: StandInChannel,
        data: Json,
        files: list[UploadedFile],
        interaction: StandInInteraction | None = None,
    ) -> StandInMessage:
        raise_problems(message_problems(data, attachments=len(files)))
        if not (data.get("content") or data.get("embeds") or data.get("components") or files):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        mask = SETTABLE_FLAGS if interaction else CHANNEL_FLAGS
        return self.world.new_message(
            channel, data, files, flags_mask=mask, interaction=interaction
        )

    def _webhook_interaction(self, request: web.Request) -> StandInInteraction:
        interaction = self.world.interactions.get(request.match_info["token"])
        app_id = int(request.match_info["app_id"])
        if interaction is None or app_id != self.world.application_id:
            raise _unknown("Webhook", 10015)
        return interaction

    async def followup(self, request: web.Request) -> web.StreamResponse:
        interaction = self._webhook_interaction(request)
        if interaction.response is None:
            raise _unknown("Webhook", 10015)
        data, files = _body(request), request[_FILES]
        placeholder = interaction.original
        if placeholder is not None and placeholder.loading and not placeholder.deleted:
            # The first followup after a deferred reply fills in the "thinking" message.
            raise_problems(message_problems(data, attachments=len(files)))
            placeholder.edit({k: v for k, v in data.items() if k != "flags"}, files)
            message = placeholder
        else:
            channel = self.world.channel(interaction.channel_id)
            message = self._new_message(channel, data, files, interaction)
        interaction.followups.append(message)
        if request.query.get("wait") in _TRUE:
            return _json(message.payload())
        return web.Response(status=204)

    async def webhook_message(self, request: web.Request) -> web.StreamResponse:
        interaction = self._webhook_interaction(request)
        message_id = request.match_info["message_id"]
        if message_id == "@original":
            message = interaction.original
        else:
            wanted = int(message_id) if message_id.isdigit() else 0
            message = next((m for m in interaction.messages if m.id == wanted), None)
        return self._message_action(request, message)

    def _message_action(
        self, request: web.Request, message: StandInMessage | None
    ) -> web.StreamResponse:
        if message is None or message.deleted:
            raise _unknown("Message", 10008)
        if request.method == "GET":
            return _json(message.payload())
        if request.method == "PATCH":
            data = _body(request)
            raise_problems(message_problems(data, attachments=len(request[_FILES])))
            message.edit(data, request[_FILES])
            return _json(message.payload())
        if request.method == "DELETE":
            message.deleted = True
            return web.Response(status=204)
        raise web.HTTPNotFound

    # channels

    def _channel(self, request: web.Request) -> StandInChannel:
        channel = self.world.find_channel(int(request.match_info["channel_id"]))
        if channel is None:
            raise _unknown("Channel", 10003)
        return channel

    async def get_channel(self, request: web.Request) -> web.StreamResponse:
        return _json(self._channel(request).payload())

    async def typing(self, request: web.Request) -> web.StreamResponse:
        self._channel(request)
        return web.Response(status=204)

    async def channel_messages(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        if request.method == "POST":
            message = self._new_message(channel, _body(request), request[_FILES])
            return _json(message.payload())
        if request.method != "GET":
            raise web.HTTPNotFound
        found = self.world.channel_messages(channel.id)
        before, after = request.query.get("before"), request.query.get("after")
        if before:
            found = [m for m in found if m.id < int(before)]
        if after:
            found = [m for m in found if m.id > int(after)]
        limit = min(int(request.query.get("limit", 50)), 100)
        newest_first = sorted(found, key=lambda m: m.id, reverse=True)[:limit]
        return _json([m.payload() for m in newest_first])

    async def channel_message(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        message = self.world.messages.get(int(request.match_info["message_id"]))
        if message is not None and (message.channel_id != channel.id or message.ephemeral):
            message = None
        return self._message_action(request, message)

    # guilds

    def _guild_id(self, request: web.Request) -> int:
        guild_id = int(request.match_info["guild_id"])
        if guild_id not in self.world.guilds:
            raise _unknown("Guild", 10004)
        return guild_id

    async def get_guild(self, request: web.Request) -> web.StreamResponse:
        guild = self.world.guilds[self._guild_id(request)]
        payload = guild.payload(members=[])
        for gateway_only in ("members", "channels", "threads", "presences", "voice_states"):
            payload.pop(gateway_only)
        return _json(payload)

    async def guild_channels(self, request: web.Request) -> web.StreamResponse:
        guild = self.world.guilds[self._guild_id(request)]
        return _json([c.payload() for c in guild.channels])

    async def guild_roles(self, request: web.Request) -> web.StreamResponse:
        guild = self.world.guilds[self._guild_id(request)]
        return _json([guild.everyone_role()])

    async def guild_members(self, request: web.Request) -> web.StreamResponse:
        guild = self.world.guilds[self._guild_id(request)]
        after = int(request.query.get("after", 0))
        limit = min(int(request.query.get("limit", 1)), 1000)
        members = sorted(
            (m for m in guild.members.values() if m.user.id > after), key=lambda m: m.user.id
        )
        return _json([m.payload() for m in members[:limit]])

    async def guild_member(self, request: web.Request) -> web.StreamResponse:
        member = self.world.member(self._guild_id(request), int(request.match_info["user_id"]))
        if member is None:
            raise _unknown("Member", 10007)
        return _json(member.payload())

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        found = self.world.attachment(int(request.match_info["attachment_id"]))
        if found is None or found.filename != request.match_info["name"]:
            raise web.HTTPNotFound
        return web.Response(body=found.data, content_type=found.content_type)


def _json(data: Any, status: int = 200) -> web.Response:
    """JSON with the bare content type Discord sends (discord.py compares it exactly)."""
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


def _body(request: web.Request) -> Json:
    body = request[_BODY]
    if not isinstance(body, dict):
        raise DiscordError(400, 50109, "The request body contains invalid JSON.")
    return body


async def _parse_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """The JSON body (or multipart `payload_json`) and the uploaded `files[n]` parts."""
    if request.content_type == "multipart/form-data":
        payload: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            elif part.name:
                data = bytes(await part.read())
                content_type = part.headers.get("Content-Type")
                files.append(
                    UploadedFile(part.name, part.filename or part.name, data, content_type)
                )
        return payload, files
    text = await request.text() if request.can_read_body else ""
    try:
        return (json.loads(text) if text else None), []
    except ValueError:
        return text, []
