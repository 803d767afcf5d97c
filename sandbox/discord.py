"""A local Discord (REST + gateway) that the unmodified discord.py client connects to.

End-to-end tests start a `DiscordStandIn`, point discord.py at `.api_url` / `.gateway_url`
(see `sandbox.discord_client.running_client`), then play the members: `invoke` a slash
command, `autocomplete`, `click` a button, add or remove members, and assert on what the
bot sent back (`StandInInteraction.wait_message`, `channel_messages`, `.requests`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from sandbox.discord_commands import command_data
from sandbox.discord_gateway import (
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_PRESENCES,
    INTENT_GUILDS,
    Gateway,
    GatewaySession,
)
from sandbox.discord_interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    InteractionResponse,
    StandInInteraction,
)
from sandbox.discord_models import (
    Json,
    MessageRevision,
    StandInAttachment,
    StandInChannel,
    StandInGuild,
    StandInMember,
    StandInMessage,
    StandInUser,
    iso_now,
)
from sandbox.discord_presence import Presence, SpotifyTrack, spotify_activity
from sandbox.discord_rest import RecordedRequest, Rest
from sandbox.discord_state import World

__all__ = [
    "DiscordStandIn",
    "InteractionResponse",
    "MessageRevision",
    "RecordedRequest",
    "SpotifyPlay",
    "SpotifyTrack",
    "StandInAttachment",
    "StandInChannel",
    "StandInGuild",
    "StandInInteraction",
    "StandInMember",
    "StandInMessage",
    "StandInUser",
]

SpotifyPlay = tuple["StandInUser | int", SpotifyTrack, datetime]
"""(user, track, started_at) for `DiscordStandIn.play_spotify_many`."""

DEFAULT_APPLICATION_ID = 1_100_000_000_000_000_001


class DiscordStandIn:
    """The stand-in server and the test's handle on it. The bot user's id defaults to the
    application's id, as it is for applications created on Discord today."""

    def __init__(
        self,
        *,
        application_id: int = DEFAULT_APPLICATION_ID,
        bot_user_id: int | None = None,
        token: str = "standin-token",
        heartbeat_interval_ms: int = 41_250,
    ) -> None:
        self._world = World(
            application_id=application_id,
            bot_user_id=bot_user_id if bot_user_id is not None else application_id,
            token=token,
        )
        self._gateway = Gateway(self._world, heartbeat_interval_ms=heartbeat_interval_ms)
        self._rest = Rest(self._world, lambda: self.gateway_url)
        self._runner: web.AppRunner | None = None
        self._listening_sessions: dict[int, str] = {}
        self.base_url = ""
        self.outside_hosts: list[str] = []
        """Host names a client guarded by `running_client` tried to reach (e.g. discord.com)."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        app = web.Application(middlewares=[self._rest.middleware], client_max_size=64 * 2**20)
        app.router.add_get("/", self._gateway.handle)
        app.add_routes(self._rest.routes())
        app.router.add_route("*", "/{tail:.*}", self._rest.unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        self._world.base_url = self.base_url
        self._gateway.url = f"ws://{bound_host}:{bound_port}/"
        return self

    async def close(self) -> None:
        await self._gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # configuration and records

    @property
    def api_url(self) -> str:
        """The value for `discord.http.Route.BASE`."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The value for `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`."""
        return self._gateway.url

    @property
    def token(self) -> str:
        return self._world.token

    @property
    def application_id(self) -> int:
        return self._world.application_id

    @property
    def bot(self) -> StandInUser:
        return self._world.bot

    @property
    def owner(self) -> StandInUser:
        """The application's owner (what `Bot.is_owner` checks against)."""
        return self._world.owner

    @property
    def users(self) -> dict[int, StandInUser]:
        return self._world.users

    @property
    def guilds(self) -> dict[int, StandInGuild]:
        return self._world.guilds

    @property
    def recommended_shards(self) -> int:
        """The shard count GET /gateway/bot recommends (AutoShardedClient uses it)."""
        return self._rest.recommended_shards

    @recommended_shards.setter
    def recommended_shards(self, count: int) -> None:
        self._rest.recommended_shards = count

    @property
    def interaction_deadline(self) -> float:
        """Seconds the bot has to send the first callback, as on Discord (3 s)."""
        return self._rest.interaction_deadline

    @interaction_deadline.setter
    def interaction_deadline(self, seconds: float) -> None:
        self._rest.interaction_deadline = seconds

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._rest.requests

    @property
    def unknown_requests(self) -> list[RecordedRequest]:
        """Requests to routes the stand-in does not serve (answered 404)."""
        return self._rest.unknown_requests

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self._rest.requests
            if r.path.startswith(path_prefix) and method in (None, r.method)
        ]

    @property
    def sessions(self) -> list[GatewaySession]:
        """The current gateway session of each shard."""
        return self._gateway.sessions

    @property
    def interactions(self) -> list[StandInInteraction]:
        return list(self._world.interactions.values())

    def registered_commands(self, guild_id: int | None = None) -> list[Json]:
        """The commands the bot last synced globally (None) or to one guild."""
        return self._world.commands.in_scope(guild_id)

    def sync_count(self, guild_id: int | None = None) -> int:
        """How many times the bot bulk-overwrote the commands of that scope."""
        return self._world.commands.sync_count(guild_id)

    def channel_messages(self, channel_id: int) -> list[StandInMessage]:
        """Messages visible to everyone in the channel, oldest first."""
        return self._world.channel_messages(channel_id)

    async def wait_channel_message(
        self,
        channel_id: int,
        predicate: Callable[[StandInMessage], bool] | None = None,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> StandInMessage:
        """The newest visible message in the channel that satisfies `predicate`, waiting for it."""
        check = predicate or (lambda m: not m.loading)

        def find() -> StandInMessage | None:
            return next((m for m in reversed(self.channel_messages(channel_id)) if check(m)), None)

        what = f"a message in channel {channel_id} that satisfies the predicate"
        return await self._world.changes.wait_for(find, timeout, what)

    # the world

    def add_user(self, user_id: int | None = None, name: str | None = None) -> StandInUser:
        user_id = user_id if user_id is not None else self._world.ids.next()
        if user_id in self._world.users:
            raise ValueError(f"user {user_id} exists already")
        user = StandInUser(user_id, name or f"member{len(self._world.users) - 1}")
        self._world.users[user_id] = user
        return user

    def add_guild(
        self,
        guild_id: int | None = None,
        name: str = "Test Guild",
        members: Iterable[StandInUser] = (),
        channels: Iterable[str] = (),
    ) -> StandInGuild:
        """A guild with a "general" text channel (plus `channels`), the bot and `members`;
        sent to the bot if connected."""
        guild_id = guild_id if guild_id is not None else self._world.guild_ids.next()
        if guild_id in self._world.guilds:
            raise ValueError(f"guild {guild_id} exists already")
        members = list(members)
        owner = members[0] if members else self._world.owner
        guild = StandInGuild(guild_id, name, owner.id, iso_now())
        for channel_name in ("general", *channels):
            channel = StandInChannel(self._world.ids.next(), channel_name, guild_id=guild_id)
            guild.channels.append(channel)
        for user in [self._world.bot, *members]:
            self._world.users.setdefault(user.id, user)
            guild.members[user.id] = StandInMember(user, iso_now())
        self._world.guilds[guild_id] = guild
        session = self._gateway.session_for(guild_id)
        if session is not None and session.intents & INTENT_GUILDS:
            session.guild_ids.append(guild_id)
            session.dispatch("GUILD_CREATE", self._gateway.guild_create(guild, session))
        self._world.changes.notify()
        return guild

    def remove_guild(self, guild_id: int) -> None:
        """The bot leaves (or is removed from) the guild: GUILD_DELETE."""
        self._guild(guild_id)
        del self._world.guilds[guild_id]
        session = self._gateway.session_for(guild_id)
        if session is not None and guild_id in session.guild_ids:
            session.guild_ids.remove(guild_id)
        self._gateway.dispatch(guild_id, "GUILD_DELETE", {"id": str(guild_id)}, INTENT_GUILDS)
        self._world.changes.notify()

    def add_member(
        self, guild_id: int, user: StandInUser, *, administrator: bool = False
    ) -> StandInMember:
        """`user` joins the guild: GUILD_MEMBER_ADD when the bot asked for member events."""
        guild = self._guild(guild_id)
        if user.id in guild.members:
            raise ValueError(f"user {user.id} is a member of guild {guild_id} already")
        self._world.users.setdefault(user.id, user)
        member = StandInMember(user, iso_now(), administrator=administrator)
        guild.members[user.id] = member
        event = {"guild_id": str(guild_id), **member.payload()}
        self._gateway.dispatch(guild_id, "GUILD_MEMBER_ADD", event, INTENT_GUILD_MEMBERS)
        presence = self._world.presences.get(user.id)
        if presence is not None:
            self._gateway.dispatch(
                guild_id,
                "PRESENCE_UPDATE",
                presence.payload(user.id, guild_id),
                INTENT_GUILD_PRESENCES,
            )
        self._world.changes.notify()
        return member

    def remove_member(self, guild_id: int, user_id: int) -> None:
        """The member leaves: GUILD_MEMBER_REMOVE when the bot asked for member events."""
        guild = self._guild(guild_id)
        member = guild.members.pop(user_id, None)
        if member is None:
            raise LookupError(f"user {user_id} is not a member of guild {guild_id}")
        event = {"guild_id": str(guild_id), "user": member.user.payload()}
        self._gateway.dispatch(guild_id, "GUILD_MEMBER_REMOVE", event, INTENT_GUILD_MEMBERS)
        self._world.changes.notify()

    # presences

    def play_spotify(
        self,
        user: StandInUser | int,
        track: SpotifyTrack,
        *,
        started_at: datetime | None = None,
        duration_ms: int | None = None,
    ) -> Json:
        """`user` listens to `track` on Spotify from `started_at` (default: now) for
        `duration_ms` (default: the track's length). Like Discord, sends one PRESENCE_UPDATE per
        guild the user shares with the bot, to sessions that asked for presences; later
        GUILD_CREATEs carry it too. Returns the activity."""
        user_id = self._world.user(user).id
        activity = self._activity(user_id, track, started_at or datetime.now(UTC), duration_ms)
        self._set_presence(user_id, Presence(activities=[activity]), self._shared_guilds())
        self._world.changes.notify()
        return activity

    def play_spotify_many(self, plays: Iterable[SpotifyPlay]) -> int:
        """`play_spotify` for many (user, track, started_at) at once, in order, for benchmarks;
        returns how many PRESENCE_UPDATE events were dispatched."""
        shared = self._shared_guilds()
        sent = 0
        for user, track, started_at in plays:
            user_id = user.id if isinstance(user, StandInUser) else user
            activity = self._activity(user_id, track, started_at, None)
            sent += self._set_presence(user_id, Presence(activities=[activity]), shared)
        self._world.changes.notify()
        return sent

    def stop_spotify(self, user: StandInUser | int) -> None:
        """The music stops: the activity goes (PRESENCE_UPDATE with none), the user stays online."""
        user_id = self._world.user(user).id
        self._set_presence(user_id, Presence(), self._shared_guilds())
        self._world.changes.notify()

    def go_offline(self, user: StandInUser | int) -> None:
        """The user closes Discord: status offline, no activities."""
        user_id = self._world.user(user).id
        self._set_presence(user_id, Presence(status="offline"), self._shared_guilds())
        del self._world.presences[user_id]
        self._world.changes.notify()

    def presence(self, user: StandInUser | int) -> Presence | None:
        """The user's current presence (None: offline)."""
        return self._world.presences.get(self._world.user(user).id)

    async def flushed(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Until every event dispatched so far is written to the bot's websockets."""
        await asyncio.wait_for(self._gateway.flushed(), timeout)

    def _activity(
        self, user_id: int, track: SpotifyTrack, started_at: datetime, duration_ms: int | None
    ) -> Json:
        session_id = self._listening_sessions.setdefault(user_id, secrets.token_hex(16))
        return spotify_activity(
            user_id,
            track,
            started_at=started_at,
            duration_ms=track.duration_ms if duration_ms is None else duration_ms,
            session_id=session_id,
            created_at=datetime.now(UTC),
        )

    def _shared_guilds(self) -> dict[int, list[int]]:
        """The ids of the guilds each user shares with the bot."""
        shared: dict[int, list[int]] = {}
        for guild in self._world.guilds.values():
            for user_id in guild.members:
                shared.setdefault(user_id, []).append(guild.id)
        return shared

    def _set_presence(
        self, user_id: int, presence: Presence, shared: Mapping[int, list[int]]
    ) -> int:
        self._world.presences[user_id] = presence
        sent = 0
        for guild_id in shared.get(user_id, ()):
            data = presence.payload(user_id, guild_id)
            sent += self._gateway.dispatch(
                guild_id, "PRESENCE_UPDATE", data, INTENT_GUILD_PRESENCES
            )
        return sent

    def _guild(self, guild_id: int) -> StandInGuild:
        try:
            return self._world.guilds[guild_id]
        except KeyError:
            raise LookupError(f"unknown guild {guild_id}") from None

    # the gateway

    async def wait_until_ready(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Until every shard identified and was sent its guilds."""
        await self._world.changes.wait_for(
            lambda: True if self._gateway.ready else None, timeout, "the bot to connect"
        )

    async def reconnect(self, shard_id: int | None = None) -> None:
        """Send op 7 RECONNECT to one shard (None: all); the client resumes its session."""
        await self._gateway.reconnect(shard_id)

    # playing the members

    async def invoke(
        self,
        command: str,
        *,
        user: StandInUser,
        guild_id: int | None = None,
        channel_id: int | None = None,
        options: Mapping[str, Any] | None = None,
        locale: str = "en-US",
    ) -> StandInInteraction:
        """Run slash command `command` ("top artists") as `user`; without a guild, in a DM.

        Options are checked and converted against the command as the bot registered it:
        unknown or missing options, wrong types and values outside the choices raise.
        """
        path = command.split()
        schema = self._world.commands.resolve(path[0], guild_id)
        if guild_id is None and not _usable_in_dms(schema):
            raise LookupError(f"/{path[0]} is not available in DMs")
        data = command_data(schema, path, options or {}, guild_id=guild_id, resolver=self._world)
        return self._send(
            APPLICATION_COMMAND, " ".join(path), data, user, guild_id, channel_id, locale
        )

    async def autocomplete(
        self,
        command: str,
        *,
        user: StandInUser,
        focused: str,
        options: Mapping[str, Any],
        guild_id: int | None = None,
        channel_id: int | None = None,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> list[Json]:
        """Type into option `focused` (its text is `options[focused]`); the bot's choices."""
        path = command.split()
        schema = self._world.commands.resolve(path[0], guild_id)
        data = command_data(
            schema, path, options, guild_id=guild_id, resolver=self._world, focused=focused
        )
        interaction = self._send(
            AUTOCOMPLETE, " ".join(path), data, user, guild_id, channel_id, "en-US"
        )
        what = f"autocomplete choices for /{command} {focused}"
        return await self._world.changes.wait_for(lambda: interaction.choices, timeout, what)

    async def click(
        self, message: StandInMessage, custom_id: str, *, user: StandInUser
    ) -> StandInInteraction:
        """Press the button `custom_id` on a message the bot sent."""
        if message.deleted:
            raise LookupError(f"message {message.id} was deleted")
        button = message.button(custom_id)
        if button is None:
            found = [b.get("custom_id") for b in message.buttons()]
            raise LookupError(f"no button {custom_id!r} on message {message.id}; has {found}")
        if button.get("disabled"):
            raise ValueError(f"button {custom_id!r} is disabled")
        viewer = (message.interaction_metadata or {}).get("user", {}).get("id")
        if message.ephemeral and viewer != str(user.id):
            raise ValueError(f"only user {viewer} can see ephemeral message {message.id}")
        data = {"custom_id": custom_id, "component_type": 2}
        return self._send(
            MESSAGE_COMPONENT,
            custom_id,
            data,
            user,
            message.guild_id,
            message.channel_id,
            "en-US",
            source=message,
        )

    def _send(
        self,
        kind: int,
        name: str,
        data: Json,
        user: StandInUser,
        guild_id: int | None,
        channel_id: int | None,
        locale: str,
        source: StandInMessage | None = None,
    ) -> StandInInteraction:
        user = self._world.user(user)
        if guild_id is not None:
            guild = self._guild(guild_id)
            if user.id not in guild.members:
                raise LookupError(f"{user.name} is not a member of guild {guild_id}")
            channel = guild.channel(channel_id) if channel_id else guild.text_channel
            if channel is None:
                raise LookupError(f"channel {channel_id} is not in guild {guild_id}")
        else:
            channel = self._world.dm_channel(user)
        interaction = StandInInteraction(
            id=self._world.ids.next(),
            token=secrets.token_urlsafe(48),
            type=kind,
            name=name,
            user=user,
            guild_id=guild_id,
            channel_id=channel.id,
            changes=self._world.changes,
            source=source,
        )
        payload = self._world.interaction_payload(interaction, data, locale=locale)
        self._world.interactions[interaction.token] = interaction
        if not self._gateway.dispatch(
            guild_id, "INTERACTION_CREATE", payload, on_sent=interaction.mark_sent
        ):
            del self._world.interactions[interaction.token]
            raise RuntimeError("the bot has no gateway session for this guild's shard")
        return interaction


def _usable_in_dms(command: Json) -> bool:
    contexts = command.get("contexts")
    if contexts is not None:
        return 1 in contexts
    return command.get("dm_permission") is not False
