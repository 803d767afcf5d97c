"""/top and /chart when the stored list is stale and Spotify fails: the stored list is served,
saying how old it is; without a stored list the member gets the usual actionable message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update

from bot.db.models import TopItem, TopSnapshot
from bot.domain import ItemKind, TimeRange
from bot.store.scores import withdraw_list
from sandbox.spotify_faults import SandboxFaults
from tests.helpers.world import World

pytestmark = pytest.mark.e2e

TIMEOUT = 0.5
FAULTS = [
    pytest.param(lambda faults: faults.server_error(count=1000), "trouble", id="5xx"),
    pytest.param(lambda faults: faults.rate_limit(retry_after=3600), "Try again in 1 h", id="429"),
    pytest.param(lambda faults: faults.latency(TIMEOUT * 4), "trouble", id="timeout"),
]
Fault = Callable[[SandboxFaults], None]


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"SPOTIFY_TIMEOUT_SECONDS": TIMEOUT}


async def age_snapshots(world: World, member_id: int, age: timedelta) -> datetime:
    fetched_at = datetime.now(UTC).replace(microsecond=0) - age
    async with world.bot.sessions() as session:
        await session.execute(
            update(TopSnapshot)
            .where(TopSnapshot.discord_user_id == member_id)
            .values(fetched_at=fetched_at)
        )
        await session.commit()
    return fetched_at


async def forget_list(world: World, member_id: int, kind: ItemKind, time_range: TimeRange) -> None:
    async with world.bot.sessions() as session:
        await withdraw_list(session, member_id, kind, time_range)
        for table in (TopItem, TopSnapshot):
            await session.execute(
                delete(table).where(
                    table.discord_user_id == member_id,
                    table.kind == int(kind),
                    table.time_range == int(time_range),
                )
            )
        await session.commit()
    assert await world.bot.services.top.stored(member_id, kind, time_range) is None


def age_note(fetched_at: datetime) -> str:
    return f"As of <t:{int(fetched_at.timestamp())}:R> — Spotify did not answer."


@pytest.mark.parametrize(("fault", "_message"), FAULTS)
async def test_top_serves_the_stale_list_when_spotify_fails(
    world: World, fault: Fault, _message: str
) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    first = await world.answer("top tracks", alice, options={"time_range": "short_term"})
    fetched_at = await age_snapshots(world, alice.id, timedelta(days=2))
    fault(world.spotify.faults)

    reply = await world.answer(
        "top tracks", alice, options={"time_range": "short_term"}, timeout=30
    )

    assert not reply.ephemeral
    description = reply.embeds[0]["description"]
    assert description.startswith(age_note(fetched_at))
    assert first.embeds[0]["description"] in description


@pytest.mark.parametrize(("fault", "_message"), FAULTS)
async def test_chart_serves_the_stale_list_when_spotify_fails(
    world: World, fault: Fault, _message: str
) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    await world.answer("top artists", alice)
    fetched_at = await age_snapshots(world, alice.id, timedelta(hours=5))
    fault(world.spotify.faults)

    reply = await world.answer("chart", alice, options={"of": "artists"}, timeout=30)

    assert not reply.ephemeral and reply.attachments
    assert reply.embeds[0]["description"] == age_note(fetched_at)


@pytest.mark.parametrize(("fault", "message"), FAULTS)
async def test_without_a_stored_list_the_member_is_told_what_to_do(
    world: World, fault: Fault, message: str
) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    await forget_list(world, alice.id, ItemKind.TRACK, TimeRange.LONG)
    fault(world.spotify.faults)

    reply = await world.answer("top tracks", alice, options={"time_range": "long_term"}, timeout=30)

    assert reply.ephemeral
    assert message in reply.text()
