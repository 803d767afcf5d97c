from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import LinkStatus, TimeRange
from bot.store.scores import SCORE_SCALE, weight
from bot.store.whoknows import WhoKnows, known_artists, who_knows
from tests.helpers.community import (
    GUILD,
    MEDIUM,
    OTHER_GUILD,
    World,
    artist,
)

FILLER = [artist(100 + n) for n in range(10)]


async def ask(
    sessions: async_sessionmaker[AsyncSession],
    artist_id: str,
    time_range: TimeRange = MEDIUM,
    offset: int = 0,
    limit: int = 10,
) -> WhoKnows | None:
    async with sessions() as session:
        return await who_knows(session, GUILD, artist_id, time_range, offset, limit)


async def test_listeners_come_best_rank_first_with_the_total_and_score(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    star = artist(1)
    await world.member(30, [*FILLER[:4], star])
    await world.member(20, [star])
    await world.member(10, [*FILLER[:4], star])
    await world.member(40, [*FILLER[:2], star])
    await world.member(50, FILLER)

    result = await ask(db_sessions, star.id)

    assert result is not None
    assert result.artist == star
    assert [(x.discord_user_id, x.rank) for x in result.listeners] == [
        (20, 1),
        (40, 3),
        (10, 5),
        (30, 5),
    ]
    assert result.total == 4
    assert result.score == (weight(1) + weight(3) + 2 * weight(5)) / SCORE_SCALE

    second_page = await ask(db_sessions, star.id, offset=2, limit=2)
    assert second_page is not None
    assert [x.discord_user_id for x in second_page.listeners] == [10, 30]


async def test_hidden_unlinked_and_departed_members_are_not_listed(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    star = artist(1)
    for user in range(1, 7):
        await world.member(user, [star])
    await world.set_visible(2, False)
    await world.set_status(3, LinkStatus.REVOKED)
    await world.leave(4)
    await world.unlink(5)
    await world.member(7, [star], guild=OTHER_GUILD)

    result = await ask(db_sessions, star.id)

    assert result is not None
    assert [x.discord_user_id for x in result.listeners] == [1, 6]
    assert result.total == 2


async def test_ranges_are_separate(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    await world.set_list(1, [artist(2), artist(1)], TimeRange.SHORT)

    short = await ask(db_sessions, artist(1).id, TimeRange.SHORT)

    assert short is not None
    assert [(x.discord_user_id, x.rank) for x in short.listeners] == [(1, 2)]


async def test_an_artist_nobody_here_lists_has_no_listeners_and_an_unknown_one_none(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)], guild=OTHER_GUILD)

    elsewhere = await ask(db_sessions, artist(1).id)

    assert elsewhere is not None
    assert (elsewhere.artist, elsewhere.listeners, elsewhere.total) == (artist(1), [], 0)
    assert await ask(db_sessions, artist(99).id) is None


async def suggest(
    sessions: async_sessionmaker[AsyncSession], prefix: str, limit: int = 25
) -> list[str]:
    async with sessions() as session:
        return [item.name for item in await known_artists(session, GUILD, prefix, limit)]


async def test_autocomplete_offers_this_guilds_artists_starting_with_the_text_first(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1, "The Beatles"), artist(2, "Beach House")])
    await world.member(2, [artist(3, "Bear's Den"), artist(1, "The Beatles")])
    await world.set_list(2, [artist(4, "Bea Miller")], TimeRange.LONG)
    await world.member(3, [artist(5, "Beabadoobee")], guild=OTHER_GUILD)
    await world.member(4, [artist(6, "Beatrice")])
    await world.set_visible(4, False)

    assert await suggest(db_sessions, "bea") == [
        "Bea Miller",
        "Bear's Den",
        "Beach House",
        "The Beatles",
    ]
    assert await suggest(db_sessions, "  BEATLES ") == ["The Beatles"]
    assert await suggest(db_sessions, " ", limit=2) == ["The Beatles", "Bear's Den"]


async def test_autocomplete_treats_like_wildcards_as_plain_text(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1, "100% Pure"), artist(2, "100 Gecs"), artist(3, "A_B")])

    assert await suggest(db_sessions, "100%") == ["100% Pure"]
    assert await suggest(db_sessions, "_") == ["A_B"]
