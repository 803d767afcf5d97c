from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import InvalidInput, ItemKind, LinkStatus, TimeRange
from bot.store.leaderboard import Leaderboard, leaderboard
from bot.store.scores import SCORE_SCALE, weight
from tests.helpers.community import (
    GUILD,
    MEDIUM,
    NOW,
    OTHER_GUILD,
    World,
    artist,
    track,
)


async def board(
    sessions: async_sessionmaker[AsyncSession],
    kind: ItemKind = ItemKind.ARTIST,
    time_range: TimeRange = MEDIUM,
    offset: int = 0,
    limit: int = 10,
    guild: int = GUILD,
) -> Leaderboard:
    async with sessions() as session:
        return await leaderboard(session, guild, kind, time_range, offset, limit)


def names(result: Leaderboard) -> list[str]:
    return [entry.item.name for entry in result.entries]


async def test_items_rank_by_summed_rank_weights_with_listeners_and_totals(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    a, b, c = artist(1), artist(2), artist(3)
    await world.member(10, [a, b, c])
    await world.member(11, [b, a])
    await world.member(12, [b])

    result = await board(db_sessions)

    assert names(result) == [b.name, a.name, c.name]
    assert [(e.position, e.score, e.listeners) for e in result.entries] == [
        (1, (weight(2) + weight(1) + weight(1)) / SCORE_SCALE, 3),
        (2, (weight(1) + weight(2)) / SCORE_SCALE, 2),
        (3, weight(3) / SCORE_SCALE, 1),
    ]
    assert result.entries[0].item == b
    assert (result.total_items, result.members) == (3, 3)


async def test_a_first_place_counts_one_and_a_fiftieth_place_counts_a_fiftieth(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(10, [artist(n) for n in range(1, 51)])

    result = await board(db_sessions, limit=50)

    assert result.entries[0].score == 1.0
    assert result.entries[-1].score == pytest.approx(0.02)


async def test_equal_scores_are_ordered_by_listeners_then_name(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    filler = [artist(100 + n) for n in range(25)]
    zed, bee, ant = artist(1, "Zed"), artist(2, "Bee"), artist(3, "Ant")
    await world.member(10, [bee])
    await world.member(11, [ant])
    await world.member(12, [*filler, zed])
    await world.member(13, [*filler, zed])

    result = await board(db_sessions, limit=100)

    assert weight(26) * 2 == weight(1)
    assert names(result)[-3:] == ["Zed", "Ant", "Bee"]


@pytest.mark.parametrize("size", [1, 3, 4, 7])
async def test_pages_continue_where_the_last_one_stopped(
    db_sessions: async_sessionmaker[AsyncSession], size: int
) -> None:
    """Pages in the second half are read from the end of the board: the same entries."""
    world = World(db_sessions)
    for user in range(10, 16):
        await world.member(user, [artist((user * 7 + n) % 23) for n in range(8)])
    full = await board(db_sessions, limit=100)

    offsets = range(0, full.total_items, size)
    assert len(offsets) > 2
    pages = [await board(db_sessions, offset=offset, limit=size) for offset in offsets]

    assert [entry for page in pages for entry in page.entries] == full.entries
    assert [entry.position for entry in full.entries] == list(range(1, full.total_items + 1))
    assert all(page.total_items == full.total_items for page in pages)
    assert len({entry.score for entry in full.entries}) < len(full.entries)  # ties included
    beyond = await board(db_sessions, offset=full.total_items, limit=size)
    assert beyond.entries == [] and beyond.total_items == full.total_items


async def test_only_current_visible_actively_linked_members_are_ranked(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    for user in range(2, 8):
        await world.member(user, [artist(user)])
    await world.set_visible(2, False)
    await world.set_status(3, LinkStatus.REVOKED)
    await world.set_status(4, LinkStatus.BROKEN)
    await world.set_status(5, LinkStatus.NOT_ALLOWED)
    await world.leave(6)
    await world.unlink(7)
    await world.link(9)
    await world.set_list(9, [artist(9)])
    await world.member(8, [artist(8)], guild=OTHER_GUILD)

    result = await board(db_sessions)

    assert names(result) == [artist(1).name]
    assert (result.total_items, result.members) == (1, 1)


async def test_members_coming_back_are_ranked_again(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    await world.member(2, [artist(1)])
    await world.set_visible(1, False)
    await world.set_status(2, LinkStatus.REVOKED)

    await world.set_visible(1, True)
    await world.set_status(2, LinkStatus.ACTIVE)

    result = await board(db_sessions)
    assert [(e.item.name, e.listeners) for e in result.entries] == [(artist(1).name, 2)]


async def test_kinds_ranges_and_guilds_have_separate_boards(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)], [track(1)])
    await world.set_list(1, [artist(2)], TimeRange.SHORT)
    await world.member(2, [artist(3)], guild=OTHER_GUILD)

    assert names(await board(db_sessions)) == [artist(1).name]
    assert names(await board(db_sessions, ItemKind.TRACK)) == [track(1).name]
    assert names(await board(db_sessions, time_range=TimeRange.SHORT)) == [artist(2).name]
    assert names(await board(db_sessions, time_range=TimeRange.LONG)) == []
    assert names(await board(db_sessions, guild=OTHER_GUILD)) == [artist(3).name]


async def test_freshness_spans_the_oldest_and_newest_counted_list(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)], at=NOW - timedelta(hours=5))
    await world.member(2, [artist(1)], at=NOW)
    await world.member(3, [artist(1)], at=NOW + timedelta(hours=1))
    await world.set_visible(3, False)

    result = await board(db_sessions)

    assert (result.oldest, result.newest) == (NOW - timedelta(hours=5), NOW)
    empty = await board(db_sessions, time_range=TimeRange.LONG)
    assert (empty.members, empty.oldest, empty.newest) == (0, None, None)


@pytest.mark.parametrize(
    ("kind", "offset", "limit"),
    [
        (ItemKind.ALBUM, 0, 10),
        (ItemKind.ARTIST, -1, 10),
        (ItemKind.ARTIST, 0, 0),
        (ItemKind.ARTIST, 0, 101),
    ],
)
async def test_impossible_requests_are_refused(
    db_sessions: async_sessionmaker[AsyncSession], kind: ItemKind, offset: int, limit: int
) -> None:
    with pytest.raises(InvalidInput):
        await board(db_sessions, kind, MEDIUM, offset, limit)
