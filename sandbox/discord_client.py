"""Run an unmodified discord.py client against a `DiscordStandIn` in the current event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

import aiohttp
import discord
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult
from discord.gateway import DiscordWebSocket
from discord.http import Route

from sandbox.discord import DiscordStandIn

ClientT = TypeVar("ClientT", bound=discord.Client)


class OfflineResolver(AbstractResolver):
    """Refuses every host name (IP literals such as the stand-in's never get here) and notes
    it, so a request to discord.com or the CDN fails loudly instead of leaving the machine."""

    def __init__(self, attempts: list[str]) -> None:
        self._attempts = attempts

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self._attempts.append(host)
        raise OSError(f"the Discord stand-in blocks outside host {host!r}")

    async def close(self) -> None:
        return None


@asynccontextmanager
async def running_client(
    standin: DiscordStandIn,
    client: ClientT,
    *,
    timeout: float = 10,  # noqa: ASYNC109
) -> AsyncIterator[ClientT]:
    """Log `client` in (which runs its `setup_hook`), connect it and wait until the stand-in
    sent every shard its guilds; close it and restore discord.py's URLs on exit.

    discord.py's URLs are class attributes: run one client at a time. Unless the client was
    built with its own connector, host names are refused and recorded in
    `standin.outside_hosts`.
    """
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = standin.api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(standin.gateway_url)
    if client.http.connector is discord.utils.MISSING:
        resolver = OfflineResolver(standin.outside_hosts)
        client.http.connector = aiohttp.TCPConnector(limit=0, resolver=resolver)
    connection: asyncio.Task[None] | None = None
    try:
        await client.login(standin.token)
        connection = asyncio.create_task(client.connect())
        ready = asyncio.create_task(standin.wait_until_ready(timeout))
        await asyncio.wait({connection, ready}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            ready.cancel()
            connection.result()
            raise RuntimeError("the client stopped before it was ready")
        ready.result()
        yield client
    finally:
        await client.close()
        if connection is not None:
            await asyncio.gather(connection, return_exceptions=True)
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved
