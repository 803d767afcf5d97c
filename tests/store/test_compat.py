from __future__ import annotations

import random

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.store.compat import Compat, NoListeningData, compat, percent
from bot.store.scores import weight
from tests.helpers.community import MEDIUM, World, artist, track


async def match(sessions: async_sessionmaker[AsyncSession], a: int, b: int) -> Compat:
    async with sessions() as session:
        return await compat(session, a, b, MEDIUM)


async def test_identical_lists_score_100_and_share_everything(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    artists, tracks = [artist(n) for n in range(5)], [track(n) for n in range(3)]
    await world.member(1, artists, tracks)
    await world.member(2, artists, tracks)

    result = await match(db_sessions, 1, 2)

    assert (result.score, result.artists, result.tracks) == (100, 1.0, 1.0)
    assert result.shared_total == 8
    assert [(s.item, s.rank_a, s.rank_b) for s in result.shared[:3]] == [
        (artists[0], 1, 1),
        (tracks[0], 1, 1),
        (artists[1], 2, 2),
    ]


async def test_disjoint_lists_score_0_and_share_nothing(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1), artist(2)], [track(1)])
    await world.member(2, [artist(3)], [track(2), track(3)])

    result = await match(db_sessions, 1, 2)

    assert (result.score, result.artists, result.tracks) == (0, 0.0, 0.0)
    assert (result.shared, result.shared_total) == ([], 0)


async def test_partial_overlap_is_the_weighted_jaccard_index(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1), artist(2)])
    await world.member(2, [artist(2), artist(3)])

    result = await match(db_sessions, 1, 2)

    common = min(weight(2), weight(1))
    union = 2 * (weight(1) + weight(2)) - common
    assert result.artists == pytest.approx(common / union)
    assert result.tracks is None
    assert result.score == round(100 * common / union)
    assert [(s.item, s.rank_a, s.rank_b) for s in result.shared] == [(artist(2), 2, 1)]


async def test_artists_and_tracks_weigh_the_same(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)], [track(1)])
    await world.member(2, [artist(1)], [track(2)])

    assert (await match(db_sessions, 1, 2)).score == 50


async def test_a_kind_only_one_member_has_counts_as_no_overlap(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)], [track(1)])
    await world.member(2, [artist(1)])

    result = await match(db_sessions, 1, 2)

    assert (result.artists, result.tracks, result.score) == (1.0, 0.0, 50)


@pytest.mark.parametrize("seed", range(4))
async def test_compatibility_is_symmetric(
    db_sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    rng = random.Random(seed)
    world = World(db_sessions)
    for user in (1, 2):
        await world.member(
            user,
            [artist(n) for n in rng.sample(range(30), 12)],
            [track(n) for n in rng.sample(range(30), 12)],
        )

    forward, backward = await match(db_sessions, 1, 2), await match(db_sessions, 2, 1)

    assert 0 < forward.score < 100
    assert (forward.score, forward.artists, forward.tracks, forward.shared_total) == (
        backward.score,
        backward.artists,
        backward.tracks,
        backward.shared_total,
    )
    assert [(s.item, s.rank_a, s.rank_b) for s in forward.shared] == [
        (s.item, s.rank_b, s.rank_a) for s in backward.shared
    ]


async def test_shared_favourites_come_best_combined_rank_first(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    a = [artist(n) for n in range(1, 7)]
    await world.member(1, [a[0], a[1], a[2], a[3], a[4], a[5]])
    await world.member(2, [a[5], a[2], a[1], a[0]])

    result = await match(db_sessions, 1, 2)

    assert [(s.item.name, s.rank_a + s.rank_b) for s in result.shared] == [
        (a[0].name, 5),
        (a[1].name, 5),
        (a[2].name, 5),
        (a[5].name, 7),
    ]


async def test_a_member_without_stored_lists_is_reported(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    await world.member(2)

    with pytest.raises(NoListeningData) as caught:
        await match(db_sessions, 1, 2)
    assert caught.value.discord_user_id == 2


@pytest.mark.parametrize(
    ("value", "shown"), [(0.0, 0), (0.001, 1), (0.404, 40), (0.996, 99), (1.0, 100)]
)
def test_only_identical_tastes_show_100_and_only_disjoint_ones_0(value: float, shown: int) -> None:
    assert percent(value) == shown
