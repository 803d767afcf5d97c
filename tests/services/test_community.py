"""Community use cases: server-wide reads, and compat/picks for members the access rule let
through (a `Subject`), with their lists fetched first when missing."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import GuildItemScore
from bot.domain import ItemKind, TimeRange
from bot.services.access import Subject
from bot.services.community import CommunityService
from bot.store.compat import NoListeningData
from tests.helpers.community import GUILD, MEDIUM, World, artist, score_rows


class Lists:
    """Stands in for TopService: stores a list for members it has one for, notes every ask."""

    def __init__(self, world: World, available: dict[int, list[int]] | None = None) -> None:
        self.world = world
        self.available = available or {}
        self.asked: list[tuple[int, TimeRange]] = []

    async def ensure(self, discord_user_id: int, time_range: TimeRange) -> None:
        self.asked.append((discord_user_id, time_range))
        if discord_user_id in self.available:
            await self.world.set_list(
                discord_user_id, [artist(n) for n in self.available.pop(discord_user_id)]
            )


@pytest.fixture
async def world(db_sessions: async_sessionmaker[AsyncSession]) -> World:
    world = World(db_sessions)
    await world.member(1, [artist(1), artist(2)])
    await world.member(2, [artist(2), artist(3)])
    return world


@pytest.fixture
def lists(world: World) -> Lists:
    return Lists(world)


@pytest.fixture
def community(db_sessions: async_sessionmaker[AsyncSession], lists: Lists) -> CommunityService:
    return CommunityService(db_sessions, lists)


async def test_reads_go_through_one_service(world: World, community: CommunityService) -> None:
    board = await community.leaderboard(GUILD, ItemKind.ARTIST, MEDIUM)
    knows = await community.who_knows(GUILD, artist(2).id, MEDIUM)
    suggestions = await community.known_artists(GUILD, "artist")
    match = await community.compat(Subject(2, invoker_id=1), MEDIUM)
    picks = await community.recommend(GUILD, Subject(1, invoker_id=1))

    assert board.entries[0].item == artist(2)
    assert knows is not None and [x.discord_user_id for x in knows.listeners] == [2, 1]
    assert suggestions[0] == artist(2)
    assert 0 < match.score < 100
    assert [p.item for p in picks] == [artist(3)]


async def test_lists_not_stored_yet_are_fetched_before_comparing(
    world: World, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await world.member(3)
    lists = Lists(world, {3: [3, 4]})
    community = CommunityService(db_sessions, lists)

    match = await community.compat(Subject(3, invoker_id=2), MEDIUM)

    assert lists.asked == [(2, MEDIUM), (3, MEDIUM)]
    assert match.shared_total == 1


async def test_picks_for_a_member_fetch_their_lists_first(
    world: World, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await world.member(3)
    lists = Lists(world, {3: [2]})
    community = CommunityService(db_sessions, lists)

    picks = await community.recommend(GUILD, Subject(3, invoker_id=1))

    assert lists.asked == [(3, MEDIUM)]
    assert {p.item for p in picks} == {artist(1), artist(3)}


async def test_a_member_without_lists_is_said_to_have_none(
    world: World, community: CommunityService
) -> None:
    await world.member(3)
    with pytest.raises(NoListeningData):
        await community.compat(Subject(3, invoker_id=1), MEDIUM)


async def test_a_hidden_member_still_gets_answers_from_their_own_taste(
    world: World, community: CommunityService
) -> None:
    await world.set_visible(1, False)

    assert (await community.compat(Subject(2, invoker_id=1), MEDIUM)).shared_total == 1
    assert [p.item for p in await community.recommend(GUILD, Subject(1, 1))] == [artist(3)]


async def test_rebuilding_repairs_damaged_scores(
    world: World, community: CommunityService, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with db_sessions() as session:
        healthy = await score_rows(session)
    async with session_scope(db_sessions) as session:
        await session.execute(update(GuildItemScore).values(points=GuildItemScore.points + 7))
        await session.execute(delete(GuildItemScore).where(GuildItemScore.listeners == 1))

    await community.rebuild_guild_scores(GUILD)

    async with db_sessions() as session:
        assert await score_rows(session) == healthy
