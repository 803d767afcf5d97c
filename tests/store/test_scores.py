from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import column, delete, insert, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import downgrade_to, upgrade_to_head
from bot.db.models import (
    CatalogItem,
    GuildBoardSize,
    GuildItemScore,
    GuildMember,
    SpotifyLink,
    TopItem,
    TopSnapshot,
    UTCDateTime,
)
from bot.domain import ItemKind, LinkStatus, TimeRange
from bot.store.scores import weight
from tests.helpers.community import (
    GUILD,
    NOW,
    OTHER_GUILD,
    World,
    artist,
    assert_matches_rebuild,
    clear_all,
    rebuilt,
    score_rows,
    track,
)

USERS = (1, 2, 3, 4)
# guild_members as revision 0001 made it (visibility moved to its own table in 0005)
GUILD_MEMBERS_0001 = table(
    "guild_members",
    column("guild_id"),
    column("discord_user_id"),
    column("visible"),
    column("seen_at", UTCDateTime()),
)
GUILDS = (GUILD, OTHER_GUILD)


@dataclass(frozen=True)
class Op:
    action: str
    user: int
    guild: int = GUILD
    flag: bool = True
    status: LinkStatus = LinkStatus.ACTIVE
    kind: ItemKind = ItemKind.ARTIST
    time_range: TimeRange = TimeRange.MEDIUM
    items: tuple[int, ...] = ()
    renamed: bool = False


users = st.sampled_from(USERS)
guilds = st.sampled_from(GUILDS)
ops = st.one_of(
    st.builds(Op, st.just("link"), users),
    st.builds(Op, st.just("unlink"), users),
    st.builds(Op, st.just("join"), users, guilds, st.booleans()),
    st.builds(Op, st.just("leave"), users, guilds),
    st.builds(Op, st.just("visible"), users, guilds, st.booleans()),
    st.builds(Op, st.just("status"), users, status=st.sampled_from(LinkStatus)),
    st.builds(Op, st.just("remove_guild"), users, guilds),
    st.builds(
        Op,
        st.just("list"),
        users,
        kind=st.sampled_from([ItemKind.ARTIST, ItemKind.TRACK]),
        time_range=st.sampled_from([TimeRange.SHORT, TimeRange.MEDIUM]),
        items=st.lists(st.integers(0, 9), max_size=6).map(tuple),
        renamed=st.booleans(),
    ),
)


async def apply(world: World, op: Op) -> None:
    async with world.sessions() as session:
        linked = await session.get(SpotifyLink, op.user) is not None
        member = await session.get(GuildMember, (op.guild, op.user)) is not None
    match op.action:
        case "link" if not linked:
            await world.link(op.user)
        case "unlink":
            await world.unlink(op.user)
        case "join":
            await world.join(op.user, op.guild, visible=op.flag)
        case "leave":
            await world.leave(op.user, op.guild)
        case "visible" if member:
            await world.set_visible(op.user, op.flag, op.guild)
        case "status" if linked:
            await world.set_status(op.user, op.status)
        case "remove_guild":
            await world.remove_guild(op.guild)
        case "list" if linked:
            make = artist if op.kind is ItemKind.ARTIST else track
            names = [f"{'Renamed' if op.renamed else 'Item'} {n}" for n in op.items]
            items = [make(n, name) for n, name in zip(op.items, names, strict=True)]
            await world.set_list(op.user, items, op.time_range, kind=op.kind)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(ops, min_size=1, max_size=14))
async def test_incremental_upkeep_always_equals_a_full_rebuild(
    db_sessions: async_sessionmaker[AsyncSession], steps: list[Op]
) -> None:
    await clear_all(db_sessions)
    world = World(db_sessions)
    for op in steps:
        await apply(world, op)
        await assert_matches_rebuild(db_sessions)


async def test_a_replaced_list_moves_points_from_old_items_to_new_ones(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1), artist(2)])
    await world.member(2, [artist(2)])

    await world.set_list(1, [artist(3), artist(2)])

    async with db_sessions() as session:
        rows = await session.execute(
            select(CatalogItem.name, GuildItemScore.points, GuildItemScore.listeners)
            .join(CatalogItem, CatalogItem.id == GuildItemScore.item_id)
            .order_by(CatalogItem.name)
        )
        assert [tuple(row) for row in rows] == [
            ("Artist 002", weight(2) + weight(1), 2),
            ("Artist 003", weight(1), 1),
        ]


async def board_sizes(sessions: async_sessionmaker[AsyncSession]) -> dict[tuple[int, int], int]:
    async with sessions() as session:
        rows = await session.execute(
            select(GuildBoardSize.guild_id, GuildBoardSize.time_range, GuildBoardSize.item_count)
        )
        return {(guild, time_range): count for guild, time_range, count in rows}


async def test_board_sizes_follow_every_change_of_the_scores(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    medium, short = int(TimeRange.MEDIUM), int(TimeRange.SHORT)
    steps: list[tuple[Callable[[], Awaitable[None]], dict[tuple[int, int], int]]] = [
        (lambda: world.member(1, [artist(1), artist(2)]), {(GUILD, medium): 2}),
        (lambda: world.member(2, [artist(2), artist(3)]), {(GUILD, medium): 3}),
        (lambda: world.set_list(1, [artist(2)]), {(GUILD, medium): 2}),
        (
            lambda: world.set_list(1, [artist(4)], TimeRange.SHORT),
            {(GUILD, medium): 2, (GUILD, short): 1},
        ),
        (
            lambda: world.join(2, OTHER_GUILD),
            {(GUILD, medium): 2, (GUILD, short): 1, (OTHER_GUILD, medium): 2},
        ),
        (
            lambda: world.set_visible(2, False),
            {(GUILD, medium): 1, (GUILD, short): 1, (OTHER_GUILD, medium): 2},
        ),
        (lambda: world.leave(1), {(OTHER_GUILD, medium): 2}),
        (lambda: world.set_status(2, LinkStatus.REVOKED), {}),
        (lambda: world.set_status(2, LinkStatus.ACTIVE), {(OTHER_GUILD, medium): 2}),
        (lambda: world.remove_guild(OTHER_GUILD), {}),
    ]
    for step, expected in steps:
        await step()
        assert await board_sizes(db_sessions) == expected
        await assert_matches_rebuild(db_sessions)


async def test_a_member_in_two_guilds_counts_in_both(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])
    await world.join(1, OTHER_GUILD)

    async with db_sessions() as session:
        guilds = await session.scalars(select(GuildItemScore.guild_id).order_by("guild_id"))
        assert list(guilds) == [GUILD, OTHER_GUILD]


async def test_repeated_items_keep_their_first_rank(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1), artist(2), artist(1)])

    async with db_sessions() as session:
        ranks = await session.execute(select(TopItem.rank, TopItem.item_id).order_by("rank"))
        assert [rank for rank, _ in ranks] == [1, 2]
        points = await session.scalars(select(GuildItemScore.points).order_by("points"))
        assert list(points) == [weight(2), weight(1)]


async def test_deleting_a_counted_member_without_withdrawing_fails_loudly(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1)])

    with pytest.raises(IntegrityError):
        async with session_scope(db_sessions) as session:
            await session.execute(delete(TopItem))
            await session.execute(delete(TopSnapshot))
            await session.execute(delete(SpotifyLink))
            await session.execute(delete(GuildMember))


async def test_upgrading_counts_the_snapshots_already_stored(db_url: str) -> None:
    await upgrade_to_head(db_url)
    await downgrade_to(db_url, "0001")
    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            for user, visible in ((1, True), (2, True), (3, False)):
                await connection.execute(
                    insert(SpotifyLink).values(
                        discord_user_id=user,
                        spotify_account_id=f"account{user}",
                        spotify_user_id=f"user{user}",
                        access_token_enc=b"-",
                        refresh_token_enc=b"-",
                        access_expires_at=NOW,
                        scopes="",
                        authorized_at=NOW,
                        linked_at=NOW,
                        status=LinkStatus.ACTIVE,
                    )
                )
                await connection.execute(
                    insert(GUILD_MEMBERS_0001).values(
                        guild_id=GUILD, discord_user_id=user, visible=visible, seen_at=NOW
                    )
                )
                await connection.execute(
                    insert(TopSnapshot).values(
                        discord_user_id=user,
                        kind=int(ItemKind.ARTIST),
                        time_range=int(TimeRange.MEDIUM),
                        fetched_at=NOW,
                        item_count=2,
                    )
                )
            for n in (1, 2, 3):
                await connection.execute(
                    insert(CatalogItem).values(
                        id=n,
                        kind=int(ItemKind.ARTIST),
                        spotify_id=artist(n).id,
                        name=artist(n).name,
                        updated_at=NOW,
                    )
                )
            for user, items in ((1, (1, 2)), (2, (2, 3)), (3, (3, 1))):
                for rank, item in enumerate(items, start=1):
                    await connection.execute(
                        insert(TopItem).values(
                            discord_user_id=user,
                            kind=int(ItemKind.ARTIST),
                            time_range=int(TimeRange.MEDIUM),
                            rank=rank,
                            item_id=item,
                        )
                    )

        await upgrade_to_head(db_url)

        sessions = make_session_factory(engine)
        async with session_scope(sessions) as session:
            migrated = await score_rows(session)
            assert len(migrated[0]) == 2
            assert len(migrated[1]) == 3
            assert migrated == await rebuilt(session)
    finally:
        await engine.dispose()
