"""The web server's own rules: connection timeouts, and who may read /metrics and /healthz."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from bot.services.linking import LinkingService
from bot.web.server import WebServer, build_app

Start = Callable[..., Awaitable[WebServer]]
CLOSE_WAIT = 10  # far above the configured timeouts: only a server that never closes fails


@pytest.fixture
async def start_server() -> AsyncIterator[Start]:
    servers: list[WebServer] = []

    async def start(app: web.Application, **timeouts: float) -> WebServer:
        server = WebServer(app, "127.0.0.1", 0, **timeouts)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


def body_reading_app() -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/echo", echo)
    return app


async def closed_by_server(port: int, sent: bytes) -> bytes:
    """Everything the server sends until it closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(sent)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), CLOSE_WAIT)
    finally:
        writer.close()


@pytest.mark.parametrize(
    "sent", [b"", b"GET /echo HTTP/1.1\r\nHost: encore\r\n"], ids=["idle", "half-headers"]
)
async def test_an_idle_or_half_sent_connection_is_closed_after_the_keepalive_timeout(
    start_server: Start, sent: bytes
) -> None:
    server = await start_server(body_reading_app(), keepalive_timeout=0.3, request_timeout=30)
    assert server.port is not None
    assert await closed_by_server(server.port, sent) == b""


async def test_a_half_sent_body_is_answered_408_and_closed(start_server: Start) -> None:
    server = await start_server(body_reading_app(), keepalive_timeout=30, request_timeout=0.3)
    assert server.port is not None
    head = b"POST /echo HTTP/1.1\r\nHost: encore\r\nContent-Length: 100\r\n\r\n"
    answer = await closed_by_server(server.port, head + b"0123456789")
    assert answer.startswith(b"HTTP/1.1 408")


async def test_a_complete_request_is_served_normally(start_server: Start) -> None:
    server = await start_server(body_reading_app(), keepalive_timeout=0.3, request_timeout=0.3)
    async with aiohttp.ClientSession() as http:
        response = await http.post(f"http://127.0.0.1:{server.port}/echo", data=b"hello")
        assert await response.read() == b"hello"


def operator_app(token: str | None, report: Mapping[str, Any] | None = None) -> web.Application:
    async def health() -> Mapping[str, Any]:
        return report or {"db_ok": True, "gateway_ok": True, "shards": 2}

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(text="encore_up 1\n")

    async def unused(*_: object) -> None:
        raise AssertionError("no link is completed here")

    return build_app(
        callback_path="/callback",
        linking=cast(LinkingService, None),  # the link routes are not called
        on_linked=unused,
        on_failed=unused,
        health=health,
        metrics=metrics,
        metrics_token=token,
    )


async def get(
    server: WebServer, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"http://127.0.0.1:{server.port}{path}", headers=headers)
        return response.status, await response.text()


PROXIED = {"X-Forwarded-For": "203.0.113.9"}


async def test_without_a_token_only_direct_local_clients_see_metrics_and_health_details(
    start_server: Start,
) -> None:
    server = await start_server(operator_app(None))
    assert await get(server, "/metrics") == (200, "encore_up 1\n")
    status, _ = await get(server, "/metrics", PROXIED)
    assert status == 403
    status, _ = await get(server, "/metrics", {"Forwarded": "for=203.0.113.9"})
    assert status == 403
    status, detailed = await get(server, "/healthz")
    assert status == 200 and '"shards": 2' in detailed
    assert await get(server, "/healthz", PROXIED) == (200, '{"ok": true}')


async def test_with_a_token_metrics_and_health_details_need_it(start_server: Start) -> None:
    server = await start_server(operator_app("s3cret-scrape"))
    for headers in (None, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-scrape"}):
        status, _ = await get(server, "/metrics", headers)
        assert status == 403
        assert await get(server, "/healthz", headers) == (200, '{"ok": true}')
    allowed = {"Authorization": "Bearer s3cret-scrape", **PROXIED}
    assert await get(server, "/metrics", allowed) == (200, "encore_up 1\n")
    status, detailed = await get(server, "/healthz", allowed)
    assert status == 200 and '"shards": 2' in detailed


async def test_an_unhealthy_process_says_so_to_anyone(start_server: Start) -> None:
    server = await start_server(operator_app("token", {"db_ok": False, "gateway_ok": True}))
    assert await get(server, "/healthz", PROXIED) == (503, '{"ok": false}')
