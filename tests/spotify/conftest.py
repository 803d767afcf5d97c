"""A small scripted Spotify (Web API + token endpoint) on 127.0.0.1 and a token provider for it."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.spotify.client import SpotifyClient
from bot.spotify.oauth import SCOPES, SpotifyOAuth
from tests.helpers import spotify_samples as samples

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    at: float
    authorization: str | None
    body: Any


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def error_body(status: int, message: str = "error", reason: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "message": message}
    if reason is not None:
        error["reason"] = reason
    return {"error": error}


class FakeSpotify:
    """Routes answer from a per-route queue of scripted replies, then from a default handler.

    Every request is recorded with its monotonic arrival time; `/api/token` answers refresh
    grants with numbered tokens (or `invalid_grant` once `revoked` is set).
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.received = asyncio.Event()
        self._queues: dict[tuple[str, str], deque[Reply]] = {}
        self._handlers: dict[tuple[str, str], Handler] = {}
        self.token_delay = 0.05
        self.revoked = False
        self.issued = 0
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    @property
    def api_url(self) -> str:
        return self.base_url + "/v1"

    def queue(self, method: str, path: str, *replies: Reply) -> None:
        self._queues.setdefault((method, path), deque()).extend(replies)

    def route(self, method: str, path: str, handler: Handler) -> None:
        self._handlers[(method, path)] = handler

    def json_route(self, method: str, path: str, body: Any, status: int = 200) -> None:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(body, status=status)

        self.route(method, path, handler)

    def to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    @property
    def token_requests(self) -> list[Recorded]:
        return self.to("POST", "/api/token")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        if raw:
            body = (
                json.loads(raw)
                if request.content_type == "application/json"
                else dict(await request.post())
            )
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                time.monotonic(),
                request.headers.get("Authorization"),
                body,
            )
        )
        self.received.set()
        key = (request.method, request.path)
        queued = self._queues.get(key)
        if queued:
            reply = queued.popleft()
            if reply.delay:
                await asyncio.sleep(reply.delay)
            if reply.body is None:
                return web.Response(status=reply.status, headers=reply.headers)
            return web.json_response(reply.body, status=reply.status, headers=reply.headers)
        if key == ("POST", "/api/token"):
            return await self._token(body or {})
        handler = self._handlers.get(key)
        if handler is None:
            return web.json_response(error_body(404, "Not found"), status=404)
        return await handler(request)

    async def _token(self, form: dict[str, str]) -> web.Response:
        await asyncio.sleep(self.token_delay)
        if self.revoked:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Refresh token revoked"},
                status=400,
            )
        self.issued += 1
        return web.json_response(
            {
                "access_token": f"access-{self.issued}",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": " ".join(SCOPES),
            }
        )


class FakeTokens:
    """A member's tokens held in memory, refreshed through the real `SpotifyOAuth`."""

    def __init__(
        self,
        oauth: SpotifyOAuth,
        key: Hashable = "member-1",
        *,
        access_token: str = "access-0",
        refresh_token: str = "refresh-0",
        expires_in: float = 3600,
        scopes: frozenset[str] | None = frozenset(SCOPES),
    ) -> None:
        self._oauth = oauth
        self._key = key
        self._scopes = scopes
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        self.refresh_calls = 0

    @property
    def key(self) -> Hashable:
        return self._key

    @property
    def scopes(self) -> frozenset[str] | None:
        return self._scopes

    async def current_token(self) -> tuple[str, datetime]:
        await asyncio.sleep(0)
        return self.access_token, self.expires_at

    async def refresh(self) -> str:
        self.refresh_calls += 1
        tokens = await self._oauth.refresh(self.refresh_token)
        self.access_token = tokens.access_token
        self.refresh_token = tokens.refresh_token
        self.expires_at = tokens.expires_at
        return tokens.access_token


@pytest.fixture
async def fake() -> AsyncIterator[FakeSpotify]:
    server = FakeSpotify()
    await server.start()
    server.json_route("GET", "/v1/me", samples.private_user())
    yield server
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def oauth(fake: FakeSpotify, session: aiohttp.ClientSession) -> SpotifyOAuth:
    return SpotifyOAuth(
        session,
        client_id="client-id",
        client_secret="client-secret",
        redirect_uri="http://127.0.0.1:8080/callback",
        accounts_url=fake.base_url,
        timeout=2,
    )


@pytest.fixture
def make_client(fake: FakeSpotify, session: aiohttp.ClientSession) -> Callable[..., SpotifyClient]:
    def make(**options: Any) -> SpotifyClient:
        options = {"timeout": 2, "backoff_base": 0.01, **options}
        return SpotifyClient(session, api_url=fake.api_url, **options)

    return make


@pytest.fixture
def tokens(oauth: SpotifyOAuth) -> FakeTokens:
    return FakeTokens(oauth)
