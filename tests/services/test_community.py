from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import GuildItemScore
from bot.domain import ItemKind, LinkBroken, LinkStatus, MemberHidden, MemberNotLinked, NotLinked
from bot.services.community import CommunityService
from tests.helpers.community import GUILD, MEDIUM, World, artist, score_rows


@pytest.fixture
def community(db_sessions: async_sessionmaker[AsyncSession]) -> CommunityService:
    return CommunityService(db_sessions)


@pytest.fixture
async def world(db_sessions: async_sessionmaker[AsyncSession]) -> World:
    world = World(db_sessions)
    await world.member(1, [artist(1), artist(2)])
    await world.member(2, [artist(2), artist(3)])
    return world


async def test_reads_go_through_one_service(world: World, community: CommunityService) -> None:
    board = await community.leaderboard(GUILD, ItemKind.ARTIST, MEDIUM)
    knows = await community.who_knows(GUILD, artist(2).id, MEDIUM)
    suggestions = await community.known_artists(GUILD, "artist")
    match = await community.compat(GUILD, 1, 2, MEDIUM)
    picks = await community.recommend(GUILD, 1)

    assert board.entries[0].item == artist(2)
    assert knows is not None and [x.discord_user_id for x in knows.listeners] == [2, 1]
    assert suggestions[0] == artist(2)
    assert 0 < match.score < 100
    assert [p.item for p in picks] == [artist(3)]


async def test_the_one_asking_must_have_a_working_link(
    world: World, community: CommunityService
) -> None:
    with pytest.raises(NotLinked):
        await community.compat(GUILD, 9, 1, MEDIUM)
    with pytest.raises(NotLinked):
        await community.recommend(GUILD, 9)
    await world.set_status(1, LinkStatus.REVOKED)
    with pytest.raises(LinkBroken):
        await community.compat(GUILD, 1, 2, MEDIUM)
    with pytest.raises(LinkBroken):
        await community.recommend(GUILD, 1)


async def test_the_member_asked_about_must_be_linked_and_visible(
    world: World, community: CommunityService
) -> None:
    await world.link(3)
    await world.member(4, [artist(1)])
    await world.set_visible(4, False)

    with pytest.raises(MemberNotLinked):
        await community.compat(GUILD, 1, 9, MEDIUM)
    with pytest.raises(MemberHidden):
        await community.compat(GUILD, 1, 4, MEDIUM)
    with pytest.raises(MemberHidden):
        await community.recommend(GUILD, 4, asked_by=1)
    await world.set_status(2, LinkStatus.NOT_ALLOWED)
    with pytest.raises(MemberNotLinked):
        await community.recommend(GUILD, 2, asked_by=1)


async def test_a_hidden_member_still_gets_answers_from_their_own_taste(
    world: World, community: CommunityService
) -> None:
    await world.set_visible(1, False)

    assert (await community.compat(GUILD, 1, 2, MEDIUM)).shared_total == 1
    assert [p.item for p in await community.recommend(GUILD, 1, asked_by=1)] == [artist(3)]


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
