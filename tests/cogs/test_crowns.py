"""/crowns and the 👑 in /whoknows artist end to end: a crown moving when a member overtakes
another, lost when its holder leaves or hides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.db.engine import session_scope
from bot.domain import PlayIn, PlaySource
from bot.store.plays import record_plays
from sandbox.discord_models import StandInMessage, StandInUser
from tests.helpers.world import World

pytestmark = pytest.mark.e2e


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"DISCORD_MEMBERS_INTENT": True}


async def played(world: World, member: StandInUser, count: int, artist: str, days_ago: int) -> None:
    """`count` imported plays of a track by `artist`, and the member seen in the guild."""
    start = datetime.now(UTC) - timedelta(days=days_ago)
    rows = [
        PlayIn(
            discord_user_id=member.id,
            started_at=start + timedelta(minutes=5 * i),
            ms_played=180_000,
            source=PlaySource.IMPORT,
            track_name=f"Song by {artist}",
            artist_names=(artist,),
            album_name=f"Album by {artist}",
            duration_ms=180_000,
        )
        for i in range(count)
    ]
    async with session_scope(world.bot.sessions, shared_writes=True) as session:
        await record_plays(session, rows)
    await world.bot.services.members.record(world.guild.id, [member.id])


def line_of(message: StandInMessage, name: str) -> str:
    return next(line for line in message.text().splitlines() if name in line)


async def crowns(
    world: World, viewer: StandInUser, of: StandInUser | None = None
) -> StandInMessage:
    return await world.answer("crowns", viewer, options={"member": of} if of else None)


async def who_knows(world: World, viewer: StandInUser, period: str = "all") -> StandInMessage:
    options = {"artist": "Xavier", "period": period}
    return await world.answer("whoknows artist", viewer, options=options)


async def test_a_crown_moves_when_a_member_overtakes_the_holder(world: World) -> None:
    alice, bob, _ = world.members
    await played(world, alice, 30, "Xavier", days_ago=40)
    await played(world, bob, 20, "Xavier", days_ago=30)
    await played(world, bob, 29, "Yolanda", days_ago=30)  # under 30: no crown

    mine = await crowns(world, alice)
    assert not mine.ephemeral
    assert "alice's crowns in Encore Test" in mine.text()
    assert "30 plays · runner-up 20" in line_of(mine, "Xavier")
    none = await crowns(world, alice, bob)
    assert "bob holds no crowns in this server yet" in none.text()
    assert "at least 30 plays" in none.text()
    who = await who_knows(world, bob)
    assert "👑" in line_of(who, "alice") and "👑" not in line_of(who, "bob")

    await played(world, bob, 15, "Xavier", days_ago=1)
    now_bob = await crowns(world, alice, bob)
    assert "35 plays · runner-up 30" in line_of(now_bob, "Xavier")
    assert "You hold no crowns" in (await crowns(world, alice)).text()
    who = await who_knows(world, alice)
    assert "👑" in line_of(who, "bob") and "👑" not in line_of(who, "alice")
    # by the last 7 days only bob played; the crown still counts all time
    week = await who_knows(world, alice, "week")
    assert "👑" in line_of(week, "bob") and "alice" not in week.text()


async def test_the_holder_leaving_loses_the_crown_at_once(world: World) -> None:
    alice, bob, carol = world.members
    await played(world, alice, 31, "Xavier", days_ago=40)
    await played(world, bob, 50, "Xavier", days_ago=30)
    await played(world, carol, 30, "Zed", days_ago=20)
    assert "50 plays · runner-up 31" in line_of(await crowns(world, carol, bob), "Xavier")

    await world.remove_member(bob)
    mine = await crowns(world, alice)
    assert "31 plays · no runner-up" in line_of(mine, "Xavier")
    who = await who_knows(world, carol)
    assert "bob" not in who.text() and "👑" in line_of(who, "alice")


async def test_a_hidden_member_holds_no_crown_and_is_not_shown(world: World) -> None:
    alice, bob, carol = world.members
    await played(world, alice, 30, "Xavier", days_ago=40)
    await played(world, carol, 60, "Xavier", days_ago=30)
    await played(world, bob, 1, "Xavier", days_ago=1)
    await world.answer("privacy", carol, options={"visible": False})

    refused = await crowns(world, alice, carol)
    assert refused.ephemeral and "Xavier" not in refused.text()
    assert "30 plays · runner-up 1" in line_of(await crowns(world, bob, alice), "Xavier")
    who = await who_knows(world, bob)
    assert "carol" not in who.text() and "👑" in line_of(who, "alice")
    own = await crowns(world, carol)
    assert "You are hidden in this server's rankings" in own.text()


async def test_crowns_are_paged_most_plays_first(world: World) -> None:
    alice = world.members[0]
    for n in range(12):
        await played(world, alice, 30 + n, f"Artist {n:02}", days_ago=20)
    first = await crowns(world, alice)
    lines = [line for line in first.text().splitlines() if "Artist" in line]
    assert len(lines) == 10
    assert "Artist 11" in lines[0] and "41 plays · no runner-up" in lines[0]
    assert "12 crowns" in first.text()
    assert "1/2" in [button.get("label") for button in first.buttons()]
