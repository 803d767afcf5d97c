from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import CatalogTrack, Play, TrackArtist
from bot.domain import ItemKind, Period, PlayIn, PlaySource
from bot.store import play_rankings
from bot.store.memberships import record_members, remove_membership
from bot.store.play_rankings import cosine, since_day
from bot.store.plays import day_number, delete_plays, record_plays
from bot.store.scores import sync_members
from bot.store.visibility import set_visible
from tests.helpers.community import GUILD, OTHER_GUILD, clear_all

USERS = (1, 2)
GUILDS = (GUILD, OTHER_GUILD)
TRACKS = (
    ("One", ("Ann",), "Early"),
    ("Two", ("Ann",), "Early"),
    ("Three", ("Bo", "Cy"), "Late"),
    ("Four", ("Cy",), None),
)
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Op:
    action: str
    user: int
    guild: int = GUILD
    track: int = 0
    days_ago: int = 1
    count: int = 1
    flag: bool = True


users = st.sampled_from(USERS)
guilds = st.sampled_from(GUILDS)
ops = st.one_of(
    st.builds(
        Op,
        st.just("play"),
        users,
        track=st.integers(0, len(TRACKS) - 1),
        days_ago=st.sampled_from([0, 3, 12, 45]),
        count=st.integers(1, 3),
    ),
    st.builds(Op, st.just("join"), users, guilds),
    st.builds(Op, st.just("leave"), users, guilds),
    st.builds(Op, st.just("visible"), users, guilds, flag=st.booleans()),
    st.builds(Op, st.just("delete"), users),
)


class Model:
    """Which (guild, user) pairs count, as the operations say."""

    def __init__(self) -> None:
        self.members: set[tuple[int, int]] = set()
        self.hidden: set[tuple[int, int]] = set()
        self.clock = 0

    def counted(self, guild: int) -> set[int]:
        return {u for g, u in self.members if g == guild and (g, u) not in self.hidden}


async def apply(sessions: async_sessionmaker[AsyncSession], model: Model, op: Op) -> None:
    async with session_scope(sessions, shared_writes=True) as session:
        if op.action == "play":
            title, artists, album = TRACKS[op.track]
            plays = []
            for _ in range(op.count):
                model.clock += 1  # an hour apart: never duplicates of each other
                plays.append(
                    PlayIn(
                        discord_user_id=op.user,
                        started_at=NOW
                        - timedelta(days=op.days_ago)
                        - timedelta(hours=model.clock % 20, seconds=model.clock),
                        ms_played=120_000,
                        source=PlaySource.IMPORT,
                        track_name=title,
                        artist_names=artists,
                        album_name=album,
                        duration_ms=120_000,
                    )
                )
            await record_plays(session, plays)
        elif op.action == "join":
            await record_members(session, op.guild, [op.user], NOW)
            model.members.add((op.guild, op.user))
        elif op.action == "leave":
            await remove_membership(session, op.guild, op.user)
            model.members.discard((op.guild, op.user))
        elif op.action == "visible":
            await set_visible(session, op.guild, op.user, op.flag, NOW)
            await sync_members(session, [op.user], op.guild)
            (model.hidden.discard if op.flag else model.hidden.add)((op.guild, op.user))
        else:
            await delete_plays(session, op.user)


async def recount(
    session: AsyncSession, users: set[int], kind: ItemKind, period: Period
) -> tuple[Counter[int], dict[int, Counter[int]]]:
    """Plays per item, and per item per user, straight from the raw plays."""
    start = since_day(period)
    rows = await session.execute(select(Play.discord_user_id, Play.started_at, Play.track_item_id))
    albums = dict(
        (await session.execute(select(CatalogTrack.item_id, CatalogTrack.album_item_id))).all()
    )
    credits: dict[int, set[int]] = defaultdict(set)
    for track, artist in await session.execute(
        select(TrackArtist.track_item_id, TrackArtist.artist_item_id)
    ):
        credits[track].add(artist)
    totals: Counter[int] = Counter()
    per_user: dict[int, Counter[int]] = defaultdict(Counter)
    for user, started, track in rows:
        if user not in users or (start is not None and day_number(started) < start):
            continue
        if kind is ItemKind.TRACK:
            items = {track}
        elif kind is ItemKind.ALBUM:
            album = albums.get(track)
            items = {album} if album is not None else set()
        else:
            items = credits[track]
        for item in items:
            totals[item] += 1
            per_user[item][user] += 1
    return totals, per_user


async def assert_matches_recount(sessions: async_sessionmaker[AsyncSession], model: Model) -> None:
    async with sessions() as session:
        for guild in GUILDS:
            users = model.counted(guild)
            for kind in ItemKind:
                for period in (Period.WEEK, Period.MONTH, Period.ALL):
                    totals, per_user = await recount(session, users, kind, period)
                    board = await play_rankings.guild_board(session, guild, kind, period, 0, 100)
                    assert board.members == len(users)
                    assert board.total_items == len(totals)
                    assert {e.item.item_id: e.plays for e in board.entries} == dict(totals)
                    assert {e.item.item_id: e.listeners for e in board.entries} == {
                        item: len(by_user) for item, by_user in per_user.items()
                    }
                    counts = [e.plays for e in board.entries]
                    assert counts == sorted(counts, reverse=True)
                    for item, by_user in per_user.items():
                        listeners = await play_rankings.item_listeners(
                            session, guild, kind, item, period
                        )
                        assert {(x.discord_user_id, x.plays) for x in listeners} == set(
                            by_user.items()
                        )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(ops, min_size=1, max_size=16))
@example(steps=[Op("join", 1), Op("visible", 1, flag=False), Op("play", 1), Op("join", 2)])
@example(steps=[Op("play", 1, track=2), Op("join", 1), Op("join", 1, OTHER_GUILD), Op("leave", 1)])
@example(steps=[Op("join", 2), Op("play", 2, days_ago=12, count=3), Op("play", 1), Op("delete", 2)])
async def test_rankings_by_plays_equal_a_recount_from_raw_plays(
    db_sessions: async_sessionmaker[AsyncSession], steps: list[Op]
) -> None:
    await clear_all(db_sessions)
    model = Model()
    for op in steps:
        await apply(db_sessions, model, op)
    await assert_matches_recount(db_sessions, model)


def test_cosine_is_symmetric_and_bounded() -> None:
    a, b = {1: 3, 2: 1}, {1: 2, 3: 7}
    assert cosine(a, b) == cosine(b, a)
    assert 0 < cosine(a, b) < 1
    assert cosine(a, a) == 1.0
    assert cosine(a, {9: 1}) == 0.0
    assert cosine({}, a) == 0.0


def test_periods_are_whole_utc_days_ending_today() -> None:
    today = NOW.date()
    assert since_day(Period.WEEK, today) == day_number(NOW) - 6
    assert since_day(Period.MONTH, today) == day_number(NOW) - 29
    assert since_day(Period.ALL, today) is None
