"""Guild memberships: recording and removal, with the guild scores following."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import GuildMember
from bot.store.memberships import (
    record_members,
    recorded_among,
    remove_guild,
    remove_membership,
)
from bot.store.visibility import is_visible
from tests.helpers.community import (
    GUILD,
    NOW,
    OTHER_GUILD,
    World,
    artist,
    assert_matches_rebuild,
    score_rows,
)

Sessions = async_sessionmaker[AsyncSession]


async def members(sessions: Sessions) -> list[tuple[int, int]]:
    async with sessions() as session:
        rows = await session.execute(select(GuildMember.guild_id, GuildMember.discord_user_id))
        return sorted(tuple(row) for row in rows)  # type: ignore[misc]


async def counted_members(sessions: Sessions) -> set[tuple[int, int]]:
    async with sessions() as session:
        counted, _, _ = await score_rows(session)
    return {(row[0], row[3]) for row in counted}


async def test_recording_adds_members_and_keeps_their_choice(db_sessions: Sessions) -> None:
    world = World(db_sessions)
    await world.join(1, visible=False)
    later = NOW + timedelta(days=1)
    async with session_scope(db_sessions) as session:
        await record_members(session, GUILD, [1, 2], later)
        await record_members(session, GUILD, [], later)
    assert await members(db_sessions) == [(GUILD, 1), (GUILD, 2)]
    async with db_sessions() as session:
        assert (await is_visible(session, GUILD, 1), await is_visible(session, GUILD, 2)) == (
            False,
            True,
        )
        assert await recorded_among(session, GUILD, [1, 2, 3]) == {1, 2}
        assert await recorded_among(session, OTHER_GUILD, [1, 2]) == set()
        seen = await session.scalar(
            select(GuildMember.seen_at).where(GuildMember.discord_user_id == 1)
        )
    assert seen == later


async def test_a_recorded_linked_member_counts_in_that_guild(db_sessions: Sessions) -> None:
    world = World(db_sessions)
    await world.link(1)
    await world.set_list(1, [artist(1)])
    async with session_scope(db_sessions) as session:
        await record_members(session, OTHER_GUILD, [1], NOW)
    assert await counted_members(db_sessions) == {(OTHER_GUILD, 1)}
    await assert_matches_rebuild(db_sessions)


async def test_leaving_removes_one_membership_and_its_counts(db_sessions: Sessions) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    await world.join(1, OTHER_GUILD)
    await world.member(2, [artist(2)])
    async with session_scope(db_sessions) as session:
        await remove_membership(session, GUILD, 1)
    assert await members(db_sessions) == [(GUILD, 2), (OTHER_GUILD, 1)]
    assert await counted_members(db_sessions) == {(GUILD, 2), (OTHER_GUILD, 1)}
    await assert_matches_rebuild(db_sessions)


async def test_leaving_a_guild_removes_all_its_memberships(db_sessions: Sessions) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    await world.member(2, [artist(2)])
    await world.join(1, OTHER_GUILD)
    async with session_scope(db_sessions) as session:
        await remove_guild(session, GUILD)
    assert await members(db_sessions) == [(OTHER_GUILD, 1)]
    assert await counted_members(db_sessions) == {(OTHER_GUILD, 1)}
    await assert_matches_rebuild(db_sessions)
