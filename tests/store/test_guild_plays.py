"""The per-guild play boards (bot/store/guild_plays.py) against a recount from raw plays.

Seeded random rounds of every change the boards follow: plays recorded (presence-like and
identified, so named-only artists and albums get merged and tracks re-credited), a member's
plays deleted, joins, leaves, /privacy hide and show, a member forgotten, the bot leaving a
guild, enrichment, and the windows rolling on by whole days. After each few steps every row of
`user_play_periods`, `guild_play_periods` and `guild_play_members` must equal what the raw
`plays`, the current credits and the current memberships say.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import (
    CatalogTrack,
    GuildMember,
    GuildPlayMember,
    GuildPlayPeriod,
    MemberVisibility,
    Play,
    TrackArtist,
    UserPlayPeriod,
)
from bot.domain import ItemKind, Period, PlayIn, PlaySource
from bot.store import guild_plays, play_rankings
from bot.store.member_data import remove_member_data
from bot.store.memberships import record_members, remove_guild, remove_membership
from bot.store.plays import TrackIds, day_number, delete_plays, keep_enrichment, record_plays
from bot.store.scores import sync_members
from bot.store.visibility import set_visible
from tests.helpers.community import GUILD, OTHER_GUILD, clear_all

USERS = (1, 2, 3, 4)
GUILDS = (GUILD, OTHER_GUILD)
NOW = datetime.now(UTC)
TODAY = day_number(NOW)
START = TODAY - 90
DAYS_BACK = (0, 1, 5, 6, 7, 20, 29, 30, 31, 200, 364, 365, 400)
Key = tuple[int, int, int, int]


def sid(name: str) -> str:
    """A 22-character base62 Spotify ID."""
    return name.ljust(22, "0")


def play(
    user: int, started: datetime, title: str, artists: tuple[str, ...], **ids: object
) -> PlayIn:
    return PlayIn(
        discord_user_id=user,
        started_at=started,
        ms_played=100_000 + user,
        source=PlaySource.IMPORT,
        track_name=title,
        artist_names=artists,
        album_name=ids.pop("album", None),  # type: ignore[arg-type]
        duration_ms=120_000,
        **ids,  # type: ignore[arg-type]
    )


SONGS: list[dict[str, object]] = [
    {"title": "One", "artists": ("Ann",), "album": "Early"},
    {"title": "Two", "artists": ("Ann",), "album": "Early"},
    {"title": "Three", "artists": ("Bo", "Cy"), "album": "Late"},
    {"title": "Four", "artists": ("Cy",), "track_id": sid("four")},
    {
        "title": "Five",
        "artists": ("Ann",),
        "album": "Early",
        "track_id": sid("five"),
        "artist_ids": (sid("ann"),),
        "album_id": sid("early"),
    },
    {
        "title": "Four",
        "artists": ("Cy", "Dee"),
        "album": "Late",
        "track_id": sid("four"),
        "artist_ids": (sid("cy"), sid("dee")),
        "album_id": sid("late"),
    },
    {"title": "Six", "artists": ("Eve",), "album": "Solo", "track_id": sid("six")},
]
ENRICHMENTS = [
    TrackIds(sid("six"), ((sid("eve"), "Eve"), (sid("bo"), "Bo")), (sid("solo"), "Solo")),
    TrackIds(sid("four"), ((sid("cy"), "Cy"),), (sid("late"), "Late")),
]


class Rounds:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], seed: int) -> None:
        self.sessions = sessions
        self.rng = random.Random(seed)
        self.day = START
        self.clock = 0

    async def step(self) -> str:
        rng = self.rng
        action = rng.choices(
            [
                "play",
                "join",
                "leave",
                "hide",
                "show",
                "delete",
                "forget",
                "remove_guild",
                "enrich",
                "roll",
            ],
            weights=[30, 10, 4, 3, 3, 2, 1, 1, 2, 5],
        )[0]
        user, guild = rng.choice(USERS), rng.choice(GUILDS)
        async with session_scope(self.sessions, shared_writes=True) as session:
            if action == "play":
                song = dict(rng.choice(SONGS))
                plays = []
                for _ in range(rng.randint(1, 4)):
                    self.clock += 1  # minutes apart: never duplicates of each other
                    back = rng.choice(DAYS_BACK)
                    started = datetime.fromtimestamp(
                        (self.day - back) * 86_400 + 60 + (self.clock % 250) * 300, UTC
                    )
                    title, artists = song.pop("title"), song.pop("artists")
                    plays.append(play(user, started, title, artists, **song))  # type: ignore[arg-type]
                    song.update(title=title, artists=artists)
                await record_plays(session, plays)
            elif action == "join":
                await record_members(session, guild, [user], NOW)
            elif action == "leave":
                await remove_membership(session, guild, user)
            elif action in ("hide", "show"):
                await set_visible(session, guild, user, action == "show", NOW)
                await sync_members(session, [user], guild)
            elif action == "delete":
                await delete_plays(session, user)
            elif action == "forget":
                await remove_member_data(session, user)
            elif action == "remove_guild":
                await remove_guild(session, guild)
            elif action == "enrich":
                await keep_enrichment(session, [rng.choice(ENRICHMENTS)], [])
            else:
                self.day = min(self.day + rng.choice((1, 1, 2, 8, 31)), TODAY)
                await guild_plays.roll_periods(session, self.day)
        return action


async def recount(
    session: AsyncSession, end_day: int
) -> tuple[dict[Key, tuple[int, int]], dict[Key, tuple[int, int, int]], set[tuple[int, int]]]:
    """User rows, guild rows and counted members as raw plays and memberships say."""
    albums = dict(
        (await session.execute(select(CatalogTrack.item_id, CatalogTrack.album_item_id))).all()
    )
    credits: dict[int, set[int]] = defaultdict(set)
    for track, artist in await session.execute(
        select(TrackArtist.track_item_id, TrackArtist.artist_item_id)
    ):
        credits[track].add(artist)
    users: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    totals: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    plays = await session.execute(
        select(Play.discord_user_id, Play.started_at, Play.track_item_id, Play.ms_played)
    )
    for user, started, track, ms in plays:
        album = albums.get(track)
        items = [(int(ItemKind.TRACK), track)]
        items += [(int(ItemKind.ALBUM), album)] if album is not None else []
        items += [(int(ItemKind.ARTIST), artist) for artist in credits[track]]
        day = day_number(started)
        for kind, item in items:
            totals[(user, kind, 0, item)][0] += 1
            totals[(user, kind, 0, item)][1] += ms
            for period in guild_plays.ROLLING:
                if day >= end_day - period + 1:
                    users[(user, kind, period, item)][0] += 1
                    users[(user, kind, period, item)][1] += ms
    hidden = set(
        (
            await session.execute(
                select(MemberVisibility.guild_id, MemberVisibility.discord_user_id).where(
                    MemberVisibility.visible.is_(False)
                )
            )
        ).all()
    )
    members = {
        (g, u)
        for g, u in (
            await session.execute(select(GuildMember.guild_id, GuildMember.discord_user_id))
        ).all()
        if (g, u) not in hidden
    }
    guilds: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (user, kind, period, item), (count, ms) in [*users.items(), *totals.items()]:
        for guild, member in members:
            if member == user:
                row = guilds[(guild, kind, period, item)]
                row[0] += count
                row[1] += ms
                row[2] += 1
    return (
        {key: (p, m) for key, (p, m) in users.items()},
        {key: (p, m, n) for key, (p, m, n) in guilds.items()},
        members,
    )


async def assert_matches_recount(sessions: async_sessionmaker[AsyncSession], note: str) -> None:
    async with sessions() as session:
        end = await guild_plays.window_day(session)
        assert end is not None
        users, guilds, members = await recount(session, end)
        stored_users = {
            (r.discord_user_id, r.kind, r.period, r.item_id): (r.plays, r.ms_played)
            for r in await session.scalars(select(UserPlayPeriod))
        }
        stored_guilds = {
            (r.guild_id, r.kind, r.period, r.item_id): (r.plays, r.ms_played, r.listeners)
            for r in await session.scalars(select(GuildPlayPeriod))
        }
        stored_members = {
            (r.guild_id, r.discord_user_id) for r in await session.scalars(select(GuildPlayMember))
        }
    assert stored_members == members, note
    assert stored_users == {k: v for k, v in users.items() if k[2] != 0}, note
    assert stored_guilds == guilds, note


async def start(sessions: async_sessionmaker[AsyncSession]) -> None:
    await clear_all(sessions)
    async with session_scope(sessions, shared_writes=True) as session:
        await guild_plays.roll_periods(session, START)  # never built: builds (empty)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_period_tables_equal_a_recount_after_random_changes(
    db_sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    await start(db_sessions)
    rounds = Rounds(db_sessions, seed)
    done: list[str] = []
    for step in range(60):
        done.append(await rounds.step())
        if step % 6 == 5:
            await assert_matches_recount(db_sessions, f"seed {seed}: {done}")
    await assert_matches_recount(db_sessions, f"seed {seed}: {done}")


async def test_rebuild_equals_the_upkeep(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    await start(db_sessions)
    rounds = Rounds(db_sessions, 11)
    for _ in range(40):
        await rounds.step()
    async with db_sessions() as session:
        kept = sorted((await session.execute(text("SELECT * FROM guild_play_periods"))).all())
    async with session_scope(db_sessions, shared_writes=True) as session:
        await guild_plays.rebuild(session, rounds.day)
    async with db_sessions() as session:
        rebuilt = sorted((await session.execute(text("SELECT * FROM guild_play_periods"))).all())
    assert kept == rebuilt


async def test_boards_read_the_rolled_tables(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Built on an old day, the first board of today rolls the windows on: a play 10 days
    ago leaves the week and stays in the month."""
    await start(db_sessions)
    async with session_scope(db_sessions, shared_writes=True) as session:
        await record_members(session, GUILD, [1, 2], NOW)
        await record_plays(
            session,
            [
                play(1, NOW - timedelta(days=10), "One", ("Ann",), album="Early"),
                play(2, NOW - timedelta(days=200), "One", ("Ann",), album="Early"),
            ],
        )
    async with session_scope(db_sessions) as session:
        week = await play_rankings.guild_board(session, GUILD, ItemKind.TRACK, Period.WEEK)
        month = await play_rankings.guild_board(session, GUILD, ItemKind.TRACK, Period.MONTH)
        year = await play_rankings.guild_board(session, GUILD, ItemKind.ARTIST, Period.YEAR)
        assert await guild_plays.window_day(session) == TODAY
    assert week.entries == []
    assert [(e.plays, e.listeners) for e in month.entries] == [(1, 1)]
    assert [(e.item.name, e.plays, e.listeners) for e in year.entries] == [("Ann", 2, 2)]
    await assert_matches_recount(db_sessions, "rolled to today")
