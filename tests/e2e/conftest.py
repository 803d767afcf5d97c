from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app import Encore
from bot.sandbox.discord import DiscordStandIn
from bot.sandbox.discord_client import running_client
from tests.e2e.harness import World, encore_settings, free_port
from tests.fixtures.spotify_sandbox import SandboxFactory


@pytest.fixture
def log_text(caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    caplog.set_level("DEBUG")
    return lambda: caplog.text


@pytest.fixture
async def world(
    discord_standin: DiscordStandIn,
    make_spotify_sandbox: SandboxFactory,
    db_url: str,
    tmp_path: Path,
) -> AsyncIterator[World]:
    port = free_port()
    sandbox = await make_spotify_sandbox(redirect_uris=[f"http://127.0.0.1:{port}/callback"])
    members = [discord_standin.add_user(name=name) for name in ("alice", "bob", "carol")]
    guild = discord_standin.add_guild(name="Encore Test", members=members)
    settings = encore_settings(
        data_dir=tmp_path / "data", database_url=db_url, port=port, sandbox=sandbox
    )
    bot = Encore(settings, guild_ready_timeout=0.05)
    async with running_client(discord_standin, bot):
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        yield World(bot, discord_standin, sandbox, guild, members, settings)
