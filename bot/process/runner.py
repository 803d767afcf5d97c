"""Runs the bot (or the web server alone) until SIGINT/SIGTERM, then shuts down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import discord

from bot.app import Encore, point_discord_at
from bot.config import Settings
from bot.db.keycheck import KeyMismatch
from bot.metrics import Metrics
from bot.process.heap import freeze_startup_heap
from bot.runtime import Runtime

log = logging.getLogger(__name__)

T = TypeVar("T")


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run a long-lived process's main coroutine (the bot, the web server) to its end."""
    return asyncio.run(main)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _until_stopped(work: Awaitable[object]) -> None:
    """Run `work` until it ends or a signal asks us to stop; its errors propagate."""
    runner = asyncio.ensure_future(work)
    waiter = asyncio.create_task(_stop_event().wait())
    try:
        done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()
        else:
            log.info("shutting down")
    finally:
        waiter.cancel()
        if not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner


async def _freeze_startup_heap() -> None:
    frozen = freeze_startup_heap()
    log.info("ready; froze the %d objects alive at startup (see bot/process/heap.py)", frozen)


async def run_bot(settings: Settings) -> int:
    point_discord_at(settings)
    bot = Encore(settings)
    bot.add_listener(_freeze_startup_heap, "on_ready")
    assert settings.DISCORD_TOKEN is not None
    try:
        await _until_stopped(bot.start(settings.DISCORD_TOKEN.get_secret_value()))
        return 0
    except KeyMismatch as exc:
        log.error("%s", exc)
        return 1
    except discord.LoginFailure:
        log.error(
            "Discord refused DISCORD_TOKEN: copy the bot token again from the developer portal"
        )
        return 1
    except discord.PrivilegedIntentsRequired:
        log.error(
            "DISCORD_MEMBERS_INTENT is true but the Server Members intent is off in the "
            "developer portal: enable it there or set DISCORD_MEMBERS_INTENT=false"
        )
        return 1
    finally:
        await bot.close()
        log.info("stopped")


async def run_web(settings: Settings) -> int:
    """The OAuth callback, /healthz and /metrics without a gateway connection, for setups
    that split the bot over several processes."""
    point_discord_at(settings)
    runtime = Runtime(settings, Metrics())
    try:
        await runtime.start()
        await runtime.start_web(lambda: {"role": "web"})
        await _until_stopped(asyncio.Event().wait())
        return 0
    except KeyMismatch as exc:
        log.error("%s", exc)
        return 1
    finally:
        await runtime.close()
        log.info("stopped")
