"""Runs the bot until SIGINT/SIGTERM, then shuts everything down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import discord

from bot.app import Encore, point_discord_at
from bot.config import Settings

log = logging.getLogger(__name__)


async def run_bot(settings: Settings) -> int:
    point_discord_at(settings)
    bot = Encore(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    assert settings.DISCORD_TOKEN is not None
    runner = asyncio.create_task(bot.start(settings.DISCORD_TOKEN.get_secret_value()))
    waiter = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()
        else:
            log.info("shutting down")
        return 0
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
        waiter.cancel()
        await bot.close()
        if not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        log.info("stopped")
