"""Membership recording that never makes a command wait."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import GuildMember, GuildScoreMember
from bot.domain import PlayIn, PlaySource
from bot.services.members import MembershipService
from bot.store.plays import record_plays
from tests.helpers.community import World, artist


async def test_noted_members_are_written_in_one_batch(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    members = MembershipService(db_sessions)
    for user in range(1, 51):
        members.note_seen(7, user)
        members.note_seen(7, user)
    members.note_seen(8, 1)
    await members.drain()
    async with db_sessions() as session:
        rows = (
            await session.execute(select(GuildMember.guild_id, GuildMember.discord_user_id))
        ).all()
    assert sorted(rows) == sorted([(7, u) for u in range(1, 51)] + [(8, 1)])
    assert await members.is_visible(7, 3)


async def test_only_linked_unrecorded_members_are_recorded_from_a_guild_cache(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    for user in (2, 4):
        await world.link(user)
    members = MembershipService(db_sessions)
    assert await members.record_linked(9, list(range(1, 1200))) == 2
    assert await members.record_linked(9, list(range(1, 1200))) == 0
    async with db_sessions() as session:
        rows = (await session.execute(select(GuildMember.discord_user_id))).scalars().all()
    assert sorted(rows) == [2, 4]


async def test_members_with_plays_are_recorded_from_a_guild_cache_without_a_link(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await World(db_sessions).link(2)
    async with session_scope(db_sessions, shared_writes=True) as session:
        await record_plays(
            session,
            [
                PlayIn(
                    discord_user_id=5,
                    started_at=datetime.now(UTC),
                    ms_played=60_000,
                    source=PlaySource.PRESENCE,
                    track_name="Song",
                    artist_names=("Singer",),
                )
            ],
        )
    members = MembershipService(db_sessions)
    assert await members.record_linked(9, list(range(1, 700))) == 2
    async with db_sessions() as session:
        rows = (await session.execute(select(GuildMember.discord_user_id))).scalars().all()
    assert sorted(rows) == [2, 5]


async def test_hiding_records_the_member_first_and_leaving_removes_the_membership(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    members = MembershipService(db_sessions)
    await members.set_visible(7, 1, False)
    await members.set_visible(8, 1, False)
    await members.set_visible(8, 1, True)
    assert (await members.is_visible(7, 1), await members.is_visible(8, 1)) == (False, True)
    await members.remove(7, 1)
    async with db_sessions() as session:
        assert list(await session.scalars(select(GuildMember.guild_id))) == [8]
    await members.remove_guild(8)
    async with db_sessions() as session:
        assert list(await session.scalars(select(GuildMember.guild_id))) == []


async def test_a_choice_to_hide_outlives_leaving_and_rejoining(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(3, [artist(1)], guild=7)
    members = MembershipService(db_sessions)
    await members.set_visible(7, 3, False)

    await members.remove(7, 3)
    await members.record(7, [3])

    assert not await members.is_visible(7, 3)
    async with db_sessions() as session:
        counted = await session.scalar(
            select(GuildScoreMember.discord_user_id).where(GuildScoreMember.guild_id == 7)
        )
    assert counted is None
    await members.set_visible(7, 3, True)
    assert await members.is_visible(7, 3)
