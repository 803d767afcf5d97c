from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Encore
from sandbox.discord import DiscordStandIn
from sandbox.discord_client import running_client
from tests.e2e.harness import World, encore_settings, free_port
from tests.e2e.secrets_check import LogCollector, database_text, leaks
from tests.fixtures.spotify_sandbox import SandboxFactory


@pytest.fixture
def world_settings() -> dict[str, Any]:
    """Extra settings for the bot of `world`; a test module may override this fixture."""
    return {}


@pytest.fixture
async def world(
    discord_standin: DiscordStandIn,
    make_spotify_sandbox: SandboxFactory,
    db_url: str,
    tmp_path: Path,
    world_settings: dict[str, Any],
) -> AsyncIterator[World]:
    port = free_port()
    sandbox = await make_spotify_sandbox(redirect_uris=[f"http://127.0.0.1:{port}/callback"])
    members = [discord_standin.add_user(name=name) for name in ("alice", "bob", "carol")]
    guild = discord_standin.add_guild(name="Encore Test", members=members, channels=["picks"])
    settings = encore_settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        port=port,
        sandbox=sandbox,
        **world_settings,
    )
    bot = Encore(settings, guild_ready_timeout=0.05)
    bot.run_background_sync = False
    collector = LogCollector()
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        async with running_client(discord_standin, bot):
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            yield World(bot, discord_standin, sandbox, guild, members, settings)
            stored = await database_text(bot.sessions, db_url)
    finally:
        root.removeHandler(collector)
        root.setLevel(saved_level)
    found = leaks(sandbox.accounts.issued, database=stored, logs="\n".join(collector.lines))
    assert not found, f"secrets leaked: {found}"
