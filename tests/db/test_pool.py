"""The bot on a SQLite pool of one connection (the real pool is small and never overflows):
nothing may hold a connection while it waits for another, or commands and the background
sync would wait on each other until the pool gives up."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.db import engine
from tests.helpers.world import World

pytestmark = pytest.mark.e2e

POOL_TIMEOUT = 5


@pytest.fixture(autouse=True)
def one_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Autouse, so it is in place before `world` creates the bot's engine."""
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT}
    monkeypatch.setattr(engine, "SQLITE_POOL", pool)


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"DISCORD_MEMBERS_INTENT": True}


async def test_commands_and_the_sync_need_only_one_connection(world: World) -> None:
    pool = world.bot.runtime.engine.pool
    if world.bot.runtime.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite pool is what is tested here")
    assert pool.size() == 1  # type: ignore[attr-defined]
    for member, spotify_user in zip(world.members, ("user0", "user1", "user2"), strict=True):
        await world.link(member, spotify_user)
    alice, bob, carol = world.members
    commands: list[tuple[str, Any, dict[str, Any] | None]] = [
        ("profile", alice, None),
        ("top artists", bob, None),
        ("top tracks", carol, {"time_range": "short_term"}),
        ("saved tracks", alice, None),
        ("privacy", bob, {"visible": True}),
        ("leaderboard artists", carol, None),
        ("compat", alice, {"member": bob}),
        ("recommend", carol, None),
    ] * 3
    sync = world.bot.services.sync

    answering = asyncio.gather(
        *(world.answer(name, who, options=opts, timeout=30) for name, who, opts in commands)
    )
    syncing = asyncio.gather(
        *(sync.sync_member(member.id) for member in world.members), sync.run_once()
    )
    answers, _ = await asyncio.gather(answering, syncing)

    for (name, _, _), answer in zip(commands, answers, strict=True):
        assert "went wrong" not in answer.text(), name
