"""The stand-in's gateway: HELLO, IDENTIFY/RESUME, heartbeats, shards and dispatched events.

Frames go out as plain-text JSON whatever `compress` the client asks for: discord.py
decompresses binary frames only and reads text frames as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import WSMsgType, web

from sandbox.discord_models import Json, StandInGuild
from sandbox.discord_state import APPLICATION_FLAGS, World

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

_Outgoing = str | Callable[[], None] | None


class _Connection:
    """One websocket; frames leave in order through a single writer task."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.session: GatewaySession | None = None
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write())

    def send(self, frame: Json) -> None:
        self._queue.put_nowait(json.dumps(frame, separators=(",", ":")))

    def after_sent(self, callback: Callable[[], None]) -> None:
        self._queue.put_nowait(callback)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await self._writer
        await self.ws.close(code=code, message=reason.encode())

    async def _write(self) -> None:
        while (item := await self._queue.get()) is not None:
            if callable(item):
                item()
                continue
            try:
                await self.ws.send_str(item)
            except ConnectionError:
                return


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass(eq=False)
class GatewaySession:
    """One identified gateway session (one per shard), kept for RESUME after a disconnect."""

    session_id: str
    shard_id: int
    shard_count: int
    intents: int
    guild_ids: list[int]
    seq: int = 0
    ready: bool = False
    resumes: int = 0
    sent: list[Json] = field(default_factory=list, repr=False)
    connection: _Connection | None = field(default=None, repr=False)

    def owns(self, guild: StandInGuild) -> bool:
        return guild.shard_id(self.shard_count) == self.shard_id

    def dispatch(self, event: str, data: Json, on_sent: Callable[[], None] | None = None) -> None:
        self.seq += 1
        frame: Json = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.sent.append(frame)
        if self.connection is not None:
            self.connection.send(frame)
            if on_sent is not None:
                self.connection.after_sent(on_sent)


class Gateway:
    def __init__(self, world: World, *, heartbeat_interval_ms: int = 41_250) -> None:
        self.world = world
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.url = ""
        self.shard_count: int | None = None
        self.shards: dict[int, GatewaySession] = {}
        self._by_id: dict[str, GatewaySession] = {}
        self._connections: set[_Connection] = set()

    @property
    def sessions(self) -> list[GatewaySession]:
        return [self.shards[k] for k in sorted(self.shards)]

    @property
    def ready(self) -> bool:
        """Every shard identified, connected and sent its guilds."""
        count = self.shard_count
        return count is not None and all(
            (s := self.shards.get(i)) is not None and s.ready and s.connection is not None
            for i in range(count)
        )

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        if self.shard_count is None:
            return None
        shard_id = 0 if guild_id is None else (guild_id >> 22) % self.shard_count
        return self.shards.get(shard_id)

    def dispatch(
        self,
        guild_id: int | None,
        event: str,
        data: Json,
        intent: int = 0,
        on_sent: Callable[[], None] | None = None,
    ) -> bool:
        """Send `event` to the shard of `guild_id` (None: shard 0) if it asked for `intent`;
        `on_sent` is called once the frame is written to the bot's websocket."""
        session = self.session_for(guild_id)
        if session is None or (intent and not session.intents & intent):
            return False
        session.dispatch(event, data, on_sent)
        return True

    def guild_create(self, guild: StandInGuild, session: GatewaySession) -> Json:
        members = list(guild.members.values())
        if not session.intents & INTENT_GUILD_PRESENCES:
            members = [m for m in members if m.user.id == self.world.bot.id]
            return guild.payload(members=members)
        presences = [
            presence.payload(user_id)
            for user_id in guild.members
            if (presence := self.world.presences.get(user_id)) is not None
        ]
        return guild.payload(members=members, presences=presences)

    async def flushed(self) -> None:
        """Until every frame dispatched so far is written to the connected shards' websockets."""
        loop = asyncio.get_running_loop()
        waiters = []
        for session in self.sessions:
            if session.connection is not None:
                sent: asyncio.Future[None] = loop.create_future()
                session.connection.after_sent(functools.partial(_resolve, sent))
                waiters.append(sent)
        await asyncio.gather(*waiters)

    async def reconnect(self, shard_id: int | None = None) -> None:
        """Ask the client to reconnect (op 7); discord.py then RESUMEs."""
        for session in self.sessions:
            if session.connection is not None and shard_id in (None, session.shard_id):
                session.connection.send({"op": RECONNECT, "d": None})

    async def close(self) -> None:
        for connection in list(self._connections):
            await connection.close(1001, "stand-in closing")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        connection = _Connection(ws)
        self._connections.add(connection)
        try:
            if request.query.get("v", "10") not in ("9", "10"):
                await connection.close(4012, "Invalid API version.")
            elif request.query.get("encoding", "json") != "json":
                await connection.close(4002, "Only the json encoding is served.")
            else:
                connection.send(
                    {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
                )
                await self._receive(connection)
        finally:
            self._connections.discard(connection)
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
            await connection.close()
        return ws

    async def _receive(self, connection: _Connection) -> None:
        async for message in connection.ws:
            if message.type is not WSMsgType.TEXT:
                await connection.close(4002, "Send text frames.")
                return
            frame = json.loads(message.data)
            op, data = frame.get("op"), frame.get("d")
            if op == HEARTBEAT:
                connection.send({"op": HEARTBEAT_ACK})
            elif op in (IDENTIFY, RESUME) and connection.session is not None:
                await connection.close(4005, "Already authenticated.")
            elif op in (IDENTIFY, RESUME) and (data or {}).get("token") != self.world.token:
                await connection.close(4004, "Authentication failed.")
            elif op == IDENTIFY:
                await self._identify(connection, data)
            elif op == RESUME:
                self._resume(connection, data)
            elif connection.session is None:
                await connection.close(4003, "Not authenticated.")
            elif op == REQUEST_MEMBERS:
                self._request_members(connection.session, data)
            elif op not in (PRESENCE, VOICE_STATE):
                await connection.close(4001, f"Unknown opcode {op}.")

    async def _identify(self, connection: _Connection, data: Json) -> None:
        shard_id, count = data.get("shard") or [0, 1]
        if not 0 <= shard_id < count:
            await connection.close(4010, "Invalid shard.")
            return
        if not isinstance(data.get("intents"), int):
            await connection.close(4013, "Invalid intent(s).")
            return
        self.shard_count = count
        guilds = [g for g in self.world.guilds.values() if g.shard_id(count) == shard_id]
        session = GatewaySession(
            session_id=uuid.uuid4().hex,
            shard_id=shard_id,
            shard_count=count,
            intents=data["intents"],
            guild_ids=[g.id for g in guilds],
        )
        self.shards[shard_id] = session
        self._by_id[session.session_id] = session
        self._attach(connection, session)
        ready: Json = {
            "v": 10,
            "user": {**self.world.bot.payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.url,
            "application": {"id": str(self.world.application_id), "flags": APPLICATION_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "user_settings": {},
            "_trace": ["encore-discord-standin"],
        }
        if "shard" in data:
            ready["shard"] = [shard_id, count]
        session.dispatch("READY", ready)
        for guild in guilds:
            session.dispatch("GUILD_CREATE", self.guild_create(guild, session))
        connection.after_sent(lambda: self._mark_ready(session))

    def _mark_ready(self, session: GatewaySession) -> None:
        session.ready = True
        self.world.changes.notify()

    def _resume(self, connection: _Connection, data: Json) -> None:
        session = self._by_id.get(str(data.get("session_id")))
        if session is None or self.shards.get(session.shard_id) is not session:
            connection.send({"op": INVALID_SESSION, "d": False})
            return
        self._attach(connection, session)
        seen = int(data.get("seq") or 0)
        for frame in session.sent:
            if frame["s"] > seen:
                connection.send(frame)
        session.resumes += 1
        session.dispatch("RESUMED", {"_trace": ["encore-discord-standin"]})
        connection.after_sent(self.world.changes.notify)

    def _attach(self, connection: _Connection, session: GatewaySession) -> None:
        connection.session = session
        session.connection = connection

    def _request_members(self, session: GatewaySession, data: Json) -> None:
        requested = data.get("guild_id")
        guild_ids = requested if isinstance(requested, list) else [requested]
        user_ids = {int(u) for u in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        limit = int(data.get("limit") or 0)
        for guild_id in guild_ids:
            guild = self.world.guilds.get(int(guild_id or 0))
            if guild is None or not session.owns(guild):
                continue
            members = list(guild.members.values())
            if not session.intents & INTENT_GUILD_MEMBERS and not user_ids:
                members = []
            if user_ids:
                members = [m for m in members if m.user.id in user_ids]
            elif query:
                members = [m for m in members if m.user.name.lower().startswith(query)]
            if limit:
                members = members[:limit]
            chunk: Json = {
                "guild_id": str(guild.id),
                "members": [m.payload() for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if user_ids:
                found = {m.user.id for m in members}
                chunk["not_found"] = [str(u) for u in sorted(user_ids - found)]
            if data.get("nonce"):
                chunk["nonce"] = data["nonce"]
            session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
