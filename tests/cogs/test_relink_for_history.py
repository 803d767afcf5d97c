"""A member linked before Encore asked for the listening scopes: /profile invites them to /link
again, and the first history command they use says so once."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot.db.models import SpotifyLink
from bot.spotify.scopes import LISTENING_SCOPES, SCOPES
from tests.helpers.world import World

pytestmark = pytest.mark.e2e

OLD_SCOPES = " ".join(scope for scope in SCOPES if scope not in LISTENING_SCOPES)
NOTICE = "older than Encore's listening history"


async def link_before_listening_history(world: World, member_index: int) -> None:
    member = world.members[member_index]
    await world.link(member, f"user{member_index}")
    async with world.bot.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == member.id)
            .values(scopes=OLD_SCOPES)
        )


async def test_profile_invites_a_member_linked_before_listening_history(world: World) -> None:
    await link_before_listening_history(world, 0)
    await world.link(world.members[1], "user1")

    old = await world.answer("profile", world.members[0])
    current = await world.answer("profile", world.members[1])

    assert "Listening history" in old.text() and "`/link` again" in old.text()
    assert "Listening history" not in current.text()


async def test_a_history_command_says_so_once(world: World) -> None:
    await link_before_listening_history(world, 0)
    await world.link(world.members[1], "user1")
    alice, bob = world.members[:2]

    first = await world.answer("import", alice)
    second = await world.answer("import", alice)
    other = await world.answer("import", bob)

    assert NOTICE in first.text()
    assert NOTICE not in second.text()
    assert NOTICE not in other.text()
