"""The gateway reader takes turns with the rest of the event loop (bot/gateway.py)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import aiohttp
from discord.gateway import DiscordWebSocket

from bot.gateway import SLICE_SECONDS, share_the_loop

MESSAGES = 200
WORK_SECONDS = 0.001


class BufferedSocket:
    """A websocket whose next message is always already there: receiving never suspends."""

    async def receive(self, timeout: float | None = None) -> SimpleNamespace:  # noqa: ASYNC109
        return SimpleNamespace(type=aiohttp.WSMsgType.TEXT, data="{}")


class BusyReader(DiscordWebSocket):
    def __init__(self) -> None:  # no connection: only poll_event's reading loop is used
        self.socket = BufferedSocket()  # type: ignore[assignment]
        self._max_heartbeat_timeout = 60.0
        self.read = 0

    async def received_message(self, msg: object, /) -> None:
        self.read += 1
        until = time.perf_counter() + WORK_SECONDS
        while time.perf_counter() < until:
            pass


async def test_other_tasks_run_while_buffered_messages_are_read() -> None:
    share_the_loop()
    share_the_loop()  # idempotent
    reader = BusyReader()

    async def read_all() -> None:
        while reader.read < MESSAGES:
            await reader.poll_event()

    seen_at: list[int] = []

    async def interaction() -> None:
        await asyncio.sleep(0)
        seen_at.append(reader.read)

    reading = asyncio.create_task(read_all())
    await asyncio.sleep(0)  # the reader starts first, as the gateway task does
    await asyncio.gather(reading, interaction())
    assert MESSAGES * WORK_SECONDS > 10 * SLICE_SECONDS  # reading takes many slices
    assert seen_at and seen_at[0] < MESSAGES  # without turns: only once all were read
