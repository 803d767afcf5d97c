from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import Play, TrackArtist
from bot.domain import ItemKind, PlayIn, PlaySource
from bot.store.crowns import CROWN_MIN_PLAYS, crown_holder, member_crowns
from bot.store.memberships import record_members, remove_membership
from bot.store.plays import delete_plays, find_item, record_plays
from bot.store.scores import sync_members
from bot.store.visibility import set_visible
from tests.helpers.community import GUILD, OTHER_GUILD, clear_all

NOW = datetime.now(UTC).replace(microsecond=0)
TRACKS = {
    "One": ("Ann",),
    "Two": ("Ann",),
    "Three": ("Bo", "Cy"),
    "Four": ("Cy",),
}


def plays(user: int, count: int, track: str, start: datetime) -> list[PlayIn]:
    """`count` plays of the track an hour apart from `start`."""
    return [
        PlayIn(
            discord_user_id=user,
            started_at=start + timedelta(hours=i),
            ms_played=120_000,
            source=PlaySource.IMPORT,
            track_name=track,
            artist_names=TRACKS[track],
            album_name=None,
            duration_ms=120_000,
        )
        for i in range(count)
    ]


async def record(sessions: async_sessionmaker[AsyncSession], *batches: list[PlayIn]) -> None:
    async with session_scope(sessions, shared_writes=True) as session:
        await record_plays(session, [play for batch in batches for play in batch])


async def join(sessions: async_sessionmaker[AsyncSession], *users: int, guild: int = GUILD) -> None:
    async with session_scope(sessions) as session:
        await record_members(session, guild, list(users), NOW)


async def artist_id(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as session:
        found = await find_item(session, ItemKind.ARTIST, name=name)
    assert found is not None
    return found


async def holder(sessions: async_sessionmaker[AsyncSession], name: str) -> tuple[int, int] | None:
    artist = await artist_id(sessions, name)
    async with sessions() as session:
        held = await crown_holder(session, GUILD, artist)
    return None if held is None else (held.discord_user_id, held.plays)


async def crowns_of(
    sessions: async_sessionmaker[AsyncSession], user: int, guild: int = GUILD
) -> list[tuple[str, int, int | None]]:
    async with sessions() as session:
        found = await member_crowns(session, guild, user)
    return [(crown.artist.name, crown.plays, crown.runner_up) for crown in found]


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def test_a_crown_needs_30_plays(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    await join(db_sessions, 1, 2)
    await record(db_sessions, plays(1, CROWN_MIN_PLAYS - 1, "One", days_ago(10)))
    assert await holder(db_sessions, "Ann") is None
    assert await crowns_of(db_sessions, 1) == []
    await record(db_sessions, plays(1, 1, "Two", days_ago(1)))
    assert await holder(db_sessions, "Ann") == (1, 30)
    assert await crowns_of(db_sessions, 1) == [("Ann", 30, None)]


async def test_most_plays_hold_the_crown_with_the_runner_up_counted(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await join(db_sessions, 1, 2, 3)
    await record(
        db_sessions,
        plays(1, 40, "One", days_ago(10)),
        plays(2, 35, "Two", days_ago(20)),
        plays(2, 31, "Three", days_ago(5)),  # Bo and Cy
        plays(3, 12, "Four", days_ago(3)),  # Cy: 12, under 2's 31
    )
    assert await holder(db_sessions, "Ann") == (1, 40)
    assert await crowns_of(db_sessions, 1) == [("Ann", 40, 35)]
    assert await crowns_of(db_sessions, 2) == [("Bo", 31, None), ("Cy", 31, 12)]
    assert await crowns_of(db_sessions, 3) == []
    assert await crowns_of(db_sessions, 1, OTHER_GUILD) == []  # not a member there

    await record(db_sessions, plays(2, 10, "One", days_ago(2)))  # 2 overtakes 1: 45 > 40
    assert await holder(db_sessions, "Ann") == (2, 45)
    assert await crowns_of(db_sessions, 1) == []
    assert ("Ann", 45, 40) in await crowns_of(db_sessions, 2)


async def test_a_tie_goes_to_who_reached_the_count_first(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await join(db_sessions, 1, 2)
    # 1 started first but reached 30 plays yesterday; 2 had all 30 fifty days ago
    await record(
        db_sessions,
        plays(1, 29, "One", days_ago(100)),
        plays(1, 1, "Two", days_ago(1)),
        plays(2, 30, "Two", days_ago(50)),
    )
    assert await holder(db_sessions, "Ann") == (2, 30)
    assert await crowns_of(db_sessions, 2) == [("Ann", 30, 30)]
    assert await crowns_of(db_sessions, 1) == []

    await record(db_sessions, plays(1, 1, "One", days_ago(0.5)))  # 31: no tie any more
    assert await holder(db_sessions, "Ann") == (1, 31)
    assert await crowns_of(db_sessions, 1) == [("Ann", 31, 30)]
    await record(db_sessions, plays(2, 1, "One", days_ago(0.2)))  # 31 too, but later
    assert await holder(db_sessions, "Ann") == (1, 31)
    assert await crowns_of(db_sessions, 2) == []


async def test_a_holder_who_hides_leaves_or_deletes_plays_loses_the_crown(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await join(db_sessions, 1, 2, 3)
    await join(db_sessions, 1, guild=OTHER_GUILD)
    await record(
        db_sessions,
        plays(1, 50, "One", days_ago(10)),
        plays(2, 40, "One", days_ago(20)),
        plays(3, 30, "Two", days_ago(30)),
    )
    assert await holder(db_sessions, "Ann") == (1, 50)

    async with session_scope(db_sessions) as session:
        await set_visible(session, GUILD, 1, False, NOW)
        await sync_members(session, [1], GUILD)
    assert await holder(db_sessions, "Ann") == (2, 40)
    assert await crowns_of(db_sessions, 1) == []
    assert await crowns_of(db_sessions, 2) == [("Ann", 40, 30)]
    assert await crowns_of(db_sessions, 1, OTHER_GUILD) == [("Ann", 50, None)]  # hidden here only

    async with session_scope(db_sessions) as session:
        await remove_membership(session, GUILD, 2)
    assert await holder(db_sessions, "Ann") == (3, 30)
    assert await crowns_of(db_sessions, 3) == [("Ann", 30, None)]

    async with session_scope(db_sessions) as session:
        await delete_plays(session, 3)
    assert await holder(db_sessions, "Ann") is None
    assert await crowns_of(db_sessions, 3) == []


# --- the rule against a recount from raw plays ----------------------------------------------

USERS = (1, 2, 3)


@dataclass(frozen=True)
class Op:
    action: str
    user: int
    track: str = "One"
    count: int = 30
    days: int = 10
    flag: bool = True


ops = st.one_of(
    st.builds(
        Op,
        st.just("play"),
        st.sampled_from(USERS),
        track=st.sampled_from(sorted(TRACKS)),
        count=st.sampled_from([1, 10, 29, 30]),
        days=st.integers(0, 60),
    ),
    st.builds(Op, st.just("join"), st.sampled_from(USERS)),
    st.builds(Op, st.just("leave"), st.sampled_from(USERS)),
    st.builds(Op, st.just("visible"), st.sampled_from(USERS), flag=st.booleans()),
    st.builds(Op, st.just("delete"), st.sampled_from(USERS)),
)


async def expected_crowns(
    session: AsyncSession, counted: set[int]
) -> dict[int, tuple[int, int, int | None]]:
    """artist -> (holder, plays, runner-up plays), straight from the raw plays."""
    credits: dict[int, list[int]] = defaultdict(list)
    for track, artist in await session.execute(
        select(TrackArtist.track_item_id, TrackArtist.artist_item_id)
    ):
        credits[track].append(artist)
    times: dict[int, dict[int, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    for user, started, track in await session.execute(
        select(Play.discord_user_id, Play.started_at, Play.track_item_id).order_by(
            Play.started_at, Play.track_item_id
        )
    ):
        if user in counted:
            for artist in credits[track]:
                times[artist][user].append(started)
    crowns: dict[int, tuple[int, int, int | None]] = {}
    for artist, by_user in times.items():
        ranked = sorted(
            by_user, key=lambda u: (-len(by_user[u]), by_user[u][len(by_user[u]) - 1], u)
        )
        best = ranked[0]
        if len(by_user[best]) >= CROWN_MIN_PLAYS:
            second = len(by_user[ranked[1]]) if len(ranked) > 1 else None
            crowns[artist] = (best, len(by_user[best]), second)
    return crowns


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(ops, min_size=1, max_size=12))
@example(
    steps=[
        Op("join", 1),
        Op("join", 2),
        Op("play", 1, "One", 30, 40),
        Op("play", 2, "Three", 30, 50),
        Op("play", 2, "Two", 30, 45),
        Op("play", 3, "Four", 30, 1),
        Op("join", 3),
    ]
)
async def test_crowns_equal_a_recount_from_raw_plays(
    db_sessions: async_sessionmaker[AsyncSession], steps: list[Op]
) -> None:
    await clear_all(db_sessions)
    members: set[int] = set()
    hidden: set[int] = set()
    clock = 0
    for op in steps:
        async with session_scope(db_sessions, shared_writes=True) as session:
            if op.action == "play":
                clock += 1  # 5 minutes apart: no play is a duplicate of another
                start = days_ago(op.days) + timedelta(minutes=5 * clock)
                await record_plays(session, plays(op.user, op.count, op.track, start))
            elif op.action == "join":
                await record_members(session, GUILD, [op.user], NOW)
                members.add(op.user)
            elif op.action == "leave":
                await remove_membership(session, GUILD, op.user)
                members.discard(op.user)
            elif op.action == "visible":
                await set_visible(session, GUILD, op.user, op.flag, NOW)
                await sync_members(session, [op.user], GUILD)
                (hidden.discard if op.flag else hidden.add)(op.user)
            else:
                await delete_plays(session, op.user)
    async with db_sessions() as session:
        expected = await expected_crowns(session, members - hidden)
        for artist in {a for (a,) in (await session.execute(select(TrackArtist.artist_item_id)))}:
            held = await crown_holder(session, GUILD, artist)
            want = expected.get(artist)
            got_holder = (held.discord_user_id, held.plays) if held else None
            assert got_holder == ((want[0], want[1]) if want else None)
        for user in USERS:
            got = {
                (c.artist.item_id, c.plays, c.runner_up)
                for c in await member_crowns(session, GUILD, user)
            }
            assert got == {
                (artist, plays, second)
                for artist, (holder_id, plays, second) in expected.items()
                if holder_id == user
            }
