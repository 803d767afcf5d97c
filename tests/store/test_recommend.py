from __future__ import annotations

import random

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import LinkStatus, TimeRange
from bot.store.compat import NoListeningData, compat, similarity, stored_ranks
from bot.store.recommend import Recommendation, recommend, similar_members
from tests.helpers.community import GUILD, MEDIUM, World, artist, track


async def recommended(
    sessions: async_sessionmaker[AsyncSession], user: int, **options: int
) -> list[Recommendation]:
    async with sessions() as session:
        return await recommend(session, GUILD, user, MEDIUM, **options)


async def test_recommends_what_similar_members_play_with_the_reason(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    mine = [artist(1, "Low"), artist(2, "Slint")]
    await world.member(1, mine, [track(1)])
    await world.member(2, [artist(1, "Low"), artist(10, "Codeine")])
    await world.member(3, [artist(1, "Low"), artist(10, "Codeine"), artist(11, "Duster")])
    await world.member(4, [artist(2, "Slint"), artist(11, "Duster")], [track(12)])

    result = await recommended(db_sessions, 1)

    by_name = {r.item.name: r for r in result}
    assert set(by_name) == {"Codeine", "Duster", track(12).name}
    codeine = by_name["Codeine"]
    assert (codeine.members, codeine.because_of.name) == (2, "Low")
    assert codeine.reason == "2 members who share your love of Low play this"
    assert by_name[track(12).name].reason == "1 member who shares your love of Slint plays this"
    assert result[0].item.name == "Codeine"
    assert [r.score for r in result] == sorted((r.score for r in result), reverse=True)


async def test_nothing_already_in_any_of_the_members_own_lists_is_recommended(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)], [track(1)])
    await world.set_list(1, [artist(5)], TimeRange.LONG)
    await world.set_list(1, [track(6)], TimeRange.SHORT)
    await world.member(2, [artist(1), artist(5), artist(7)], [track(1), track(6), track(8)])

    result = await recommended(db_sessions, 1)

    assert [r.item for r in result] == [artist(7), track(8)]


async def test_the_most_similar_members_are_the_ones_listened_to(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    mine = [artist(n) for n in range(1, 6)]
    await world.member(1, mine)
    await world.member(2, [*mine[:4], artist(20)])
    await world.member(3, [mine[4], artist(30)])

    close_only = await recommended(db_sessions, 1, neighbours=1)
    both = await recommended(db_sessions, 1)

    assert [r.item for r in close_only] == [artist(20)]
    assert [r.item for r in both] == [artist(20), artist(30)]


async def test_members_not_counted_here_lend_no_taste(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    await world.member(2, [artist(1), artist(2)])
    await world.member(3, [artist(1), artist(3)])
    await world.member(4, [artist(1), artist(4)])
    await world.set_visible(2, False)
    await world.set_status(3, LinkStatus.REVOKED)
    await world.leave(4)

    assert await recommended(db_sessions, 1) == []


async def test_the_limit_caps_the_list(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    await world.member(2, [artist(1), *(artist(n) for n in range(10, 20))])

    assert len(await recommended(db_sessions, 1, limit=3)) == 3


async def test_a_member_without_lists_is_reported(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1)

    with pytest.raises(NoListeningData):
        await recommended(db_sessions, 1)


@pytest.mark.parametrize("seed", range(3))
async def test_similarity_in_sql_agrees_with_compatibility(
    db_sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    rng = random.Random(seed)
    world = World(db_sessions)
    for user in range(1, 7):
        artists = [artist(n) for n in rng.sample(range(15), rng.randint(1, 8))]
        tracks = [track(n) for n in rng.sample(range(15), rng.randint(0, 8))]
        await world.member(user, artists, tracks)
    await world.member(7, [artist(n) for n in range(8)])

    async with db_sessions() as session:
        mine = (await stored_ranks(session, [7], TimeRange.MEDIUM))[7]
        found = await similar_members(session, GUILD, 7, TimeRange.MEDIUM, mine, 10)
        expected = {}
        for user in range(1, 7):
            pair = await compat(session, 7, user, MEDIUM)
            if pair.shared_total:
                expected[user] = similarity([pair.artists, pair.tracks])

    assert found == pytest.approx(expected)
    assert list(found.values()) == sorted(found.values(), reverse=True)
