"""A member's year in plays (bot/store/wrapped.py), recorded through `record_plays`, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import ItemKind, PlayIn, PlaySource
from bot.store.plays import record_plays
from bot.store.wrapped import (
    BusiestWeekday,
    DayPlays,
    NewArtists,
    Streak,
    YearDays,
    busiest_weekday,
    days_played,
    longest_streak,
    new_artists,
    year_top,
)
from tests.helpers.community import clear_all

USER = 11
OTHER = 12
LENGTH_MS = 180_000
YEAR = YearDays.of(2026)
LATER = "L" + "0" * 21  # a Spotify track ID


def play(
    at: datetime,
    track: str,
    artists: Sequence[str] = ("Ann",),
    *,
    album: str | None = "Early",
    ms: int = LENGTH_MS,
    user: int = USER,
    image_url: str | None = None,
    track_id: str | None = None,
) -> PlayIn:
    return PlayIn(
        discord_user_id=user,
        started_at=at,
        ms_played=ms,
        source=PlaySource.IMPORT,
        track_name=track,
        artist_names=tuple(artists),
        album_name=album,
        duration_ms=LENGTH_MS,
        image_url=image_url,
        track_id=track_id,
    )


def repeated(
    start: datetime, count: int, track: str, artists: Sequence[str] = ("Ann",), **kw: object
) -> list[PlayIn]:
    """`count` plays of a track, one every 5 minutes (never a duplicate of the one before)."""
    return [
        play(start + timedelta(minutes=5 * i), track, artists, **kw)  # type: ignore[arg-type]
        for i in range(count)
    ]


async def store(sessions: async_sessionmaker[AsyncSession], plays: list[PlayIn]) -> None:
    async with sessions() as session:
        result = await record_plays(session, plays)
        await session.commit()
    assert result.added == len(plays)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def test_totals_count_plays_and_ms_of_utc_days_inside_the_year(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    east = timezone(timedelta(hours=2))
    await store(
        each_db_sessions,
        [
            play(datetime(2025, 12, 31, 23, 59, tzinfo=UTC), "Before", ms=60_000),
            play(datetime(2026, 1, 1, 0, 30, tzinfo=east), "Before too", ms=60_000),  # 22:30 UTC
            play(datetime(2026, 1, 1, 0, 0, tzinfo=UTC), "First", ms=120_000),
            play(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), "Last", ("Bo", "Cy"), ms=90_000),
            play(datetime(2027, 1, 1, 0, 0, tzinfo=UTC), "After", ms=60_000),
            play(datetime(2026, 6, 1, 12, tzinfo=UTC), "Elsewhere", user=OTHER),
        ],
    )
    async with each_db_sessions() as session:
        days = await days_played(session, USER, YEAR)
        earlier = await days_played(session, USER, YearDays.of(2025))
    assert [d.date for d in days] == [date(2026, 1, 1), date(2026, 12, 31)]
    # a play with two artists is still one play: totals read the track rows
    assert [(d.plays, d.ms_played) for d in days] == [(1, 120_000), (1, 90_000)]
    assert [(d.date, d.plays) for d in earlier] == [(date(2025, 12, 31), 2)]


async def test_top_items_by_plays_then_ms_with_album_art_for_tracks(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    day = at(date(2026, 3, 2))
    plays = [
        *repeated(day, 4, "Alpha", ("Ann",), album="Early", image_url="http://art/early"),
        *repeated(day + timedelta(hours=1), 3, "Beta", ("Cy", "Bo"), album="Late", ms=100_000),
        *repeated(day + timedelta(hours=2), 3, "Gamma", ("Cy",), album="Late", ms=170_000),
        *repeated(day + timedelta(hours=3), 1, "Delta", ("Di",), album=None),
        # last year's plays do not count this year
        *repeated(day - timedelta(days=365), 9, "Old", ("Oz",), album="Older"),
    ]
    await store(each_db_sessions, plays)
    async with each_db_sessions() as session:
        artists = await year_top(session, USER, ItemKind.ARTIST, YEAR)
        tracks = await year_top(session, USER, ItemKind.TRACK, YEAR)
        albums = await year_top(session, USER, ItemKind.ALBUM, YEAR, 1)
        two = await year_top(session, USER, ItemKind.TRACK, YEAR, 2)
    # Cy: Beta 3 + Gamma 3 = 6; Ann 4; Bo 3; Di 1
    assert [(a.item.name, a.plays) for a in artists] == [
        ("Cy", 6),
        ("Ann", 4),
        ("Bo", 3),
        ("Di", 1),
    ]
    # Beta and Gamma both have 3 plays: Gamma was heard longer
    assert [(t.item.name, t.plays) for t in tracks] == [
        ("Alpha", 4),
        ("Gamma", 3),
        ("Beta", 3),
        ("Delta", 1),
    ]
    assert [t.ms_played for t in tracks] == [4 * LENGTH_MS, 3 * 170_000, 3 * 100_000, LENGTH_MS]
    assert [(a.item.name, a.plays, a.item.subtitle) for a in albums] == [("Late", 6, "Cy")]
    assert [t.item.name for t in two] == ["Alpha", "Gamma"]
    assert tracks[0].item.image_url == "http://art/early"


async def test_items_without_art_show_a_cover_they_were_played_with(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    day = at(date(2026, 4, 1))
    await store(
        each_db_sessions,
        [
            *repeated(day, 2, "Cover", ("Ann",), album="Art", image_url="http://a/1"),
            # Ann's most played track has no art at all: her picture is the next one's
            *repeated(day + timedelta(hours=1), 3, "Plain", ("Ann",), album=None),
            # first heard without art: track and album have none...
            play(day + timedelta(hours=2), "Later", ("Bo",), album="Bare", track_id=LATER),
            *repeated(day - timedelta(days=200), 5, "Old", ("Bo",), album="Old", image_url="x"),
        ],
    )
    await store(
        each_db_sessions,
        [
            # ...then the track gets art (its album keeps none), and a track of the album "Art"
            # is recorded without art of its own
            play(
                day + timedelta(hours=3),
                "Later",
                ("Bo",),
                album="Bare",
                track_id=LATER,
                image_url="http://b/2",
            ),
            play(day + timedelta(hours=4), "Bare track", ("Ann", "Cy"), album="Art"),
        ],
    )
    async with each_db_sessions() as session:
        tracks = await year_top(session, USER, ItemKind.TRACK, YEAR)
        artists = await year_top(session, USER, ItemKind.ARTIST, YEAR)
        albums = await year_top(session, USER, ItemKind.ALBUM, YEAR)
    assert {t.item.name: t.item.image_url for t in tracks} == {
        "Plain": None,
        "Cover": "http://a/1",
        "Later": "http://b/2",
        "Bare track": "http://a/1",  # its album's cover
    }
    # Bo's "Old" cover was last year's: this year he shows "Later"'s
    assert {a.item.name: a.item.image_url for a in artists} == {
        "Ann": "http://a/1",
        "Bo": "http://b/2",
        "Cy": "http://a/1",
    }
    assert {a.item.name: a.item.image_url for a in albums} == {
        "Art": "http://a/1",
        "Bare": "http://b/2",
    }


async def test_longest_streak_across_a_gap_and_the_year_edges(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    days = [date(2025, 12, 30), date(2025, 12, 31)]  # before the year: not part of 2026's run
    days += [date(2026, 1, 1) + timedelta(days=n) for n in range(3)]  # Jan 1-3
    days += [date(2026, 2, 10) + timedelta(days=n) for n in range(5)]  # Feb 10-14, after a gap
    days += [date(2026, 12, 28) + timedelta(days=n) for n in range(4)]  # Dec 28-31
    days += [date(2027, 1, 1)]
    # late evening UTC on purpose: the day is the UTC day
    await store(each_db_sessions, [play(at(day, 23), f"T{day}") for day in days])
    async with each_db_sessions() as session:
        played = await days_played(session, USER, YEAR)
    assert len(played) == 12
    assert longest_streak(played) == Streak(5, date(2026, 2, 10), date(2026, 2, 14))


def test_streak_ties_go_to_the_earliest_run_and_single_days_count() -> None:
    def on(*days: date) -> list[DayPlays]:
        return [DayPlays(YearDays.of(d.year).first + d.timetuple().tm_yday - 1, 1, 1) for d in days]

    assert longest_streak([]) is None
    assert longest_streak(on(date(2026, 5, 5))) == Streak(1, date(2026, 5, 5), date(2026, 5, 5))
    runs = on(date(2026, 1, 1), date(2026, 1, 2), date(2026, 3, 1), date(2026, 3, 2))
    assert longest_streak(runs) == Streak(2, date(2026, 1, 1), date(2026, 1, 2))


async def test_busiest_weekday_sums_plays_per_utc_weekday(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    friday, tuesday, next_friday = date(2026, 5, 1), date(2026, 5, 5), date(2026, 5, 8)
    assert (friday.weekday(), tuesday.weekday(), next_friday.weekday()) == (4, 1, 4)
    wednesday_east = datetime(2026, 5, 6, 0, 30, tzinfo=timezone(timedelta(hours=3)))
    await store(
        each_db_sessions,
        [
            *repeated(at(friday), 3, "Fri"),
            *repeated(at(next_friday), 3, "Fri again"),
            *repeated(at(tuesday), 4, "Tue"),
            play(wednesday_east, "Late"),  # Tuesday 21:30 UTC: a Tuesday play
            play(at(tuesday + timedelta(days=1)), "Wed"),
        ],
    )
    async with each_db_sessions() as session:
        played = await days_played(session, USER, YEAR)
    assert busiest_weekday(played) == BusiestWeekday(4, 6)
    # one more Tuesday play ties them: the earlier weekday wins
    await store(each_db_sessions, [play(at(tuesday, 18), "Tue again")])
    async with each_db_sessions() as session:
        played = await days_played(session, USER, YEAR)
    assert busiest_weekday(played) == BusiestWeekday(1, 6)
    assert busiest_weekday([]) is None


async def test_new_artists_are_those_first_played_in_the_year(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await store(
        each_db_sessions,
        [
            play(datetime(2025, 12, 31, 23, 50, tzinfo=UTC), "Known", ("Old Friend",)),
            play(at(date(2026, 2, 1)), "Again", ("Old Friend",)),
            *repeated(at(date(2026, 3, 1)), 2, "Fresh", ("Nova", "Old Friend")),
            *repeated(at(date(2026, 4, 1)), 3, "Fresh 2", ("Mira",)),
            play(at(date(2026, 12, 31), 23), "Just in time", ("Zeta",)),
            play(datetime(2027, 1, 1, 0, 5, tzinfo=UTC), "Next year", ("Later",)),
            # another member's first plays are theirs, not this member's
            play(at(date(2024, 1, 1)), "Theirs", ("Nova",), user=OTHER),
        ],
    )
    async with each_db_sessions() as session:
        this_year = await new_artists(session, USER, YEAR)
        two_names = await new_artists(session, USER, YEAR, names=2)
        last_year = await new_artists(session, USER, YearDays.of(2025))
        next_year = await new_artists(session, USER, YearDays.of(2027))
        theirs = await new_artists(session, OTHER, YEAR)
    # most played first: Mira 3, Nova 2, Zeta 1
    assert this_year == NewArtists(3, ["Mira", "Nova", "Zeta"])
    assert two_names == NewArtists(3, ["Mira", "Nova"])
    assert last_year == NewArtists(1, ["Old Friend"])
    assert next_year == NewArtists(1, ["Later"])
    assert theirs == NewArtists(0, [])


# --- against a recount from the raw plays --------------------------------------------------

RECOUNT_TRACKS = (
    ("One", ("Ann",), "Early"),
    ("Two", ("Ann", "Bo"), "Early"),
    ("Three", ("Bo",), "Late"),
    ("Four", ("Cy", "Ann"), None),
    ("Five", ("Di",), "Late"),
)
EDGE = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Listened:
    days: int  # from 2026-01-01, negative: the year before
    track: int
    count: int
    ms: int


listened = st.builds(
    Listened,
    days=st.integers(-12, 12) | st.integers(-400, 400),
    track=st.integers(0, len(RECOUNT_TRACKS) - 1),
    count=st.integers(1, 3),
    ms=st.sampled_from([40_000, 90_000, 150_000]),
)


def as_plays(history: list[Listened]) -> list[PlayIn]:
    plays = []
    for n, entry in enumerate(history):
        title, artists, album = RECOUNT_TRACKS[entry.track]
        for k in range(entry.count):
            # minutes apart per entry and repeat, hours into the day by entry: never duplicates,
            # and late entries cross into the next UTC day only through `days`
            started = EDGE + timedelta(days=entry.days, minutes=10 * n + 3 * k)
            plays.append(play(started, title, artists, album=album, ms=entry.ms))
    return plays


@dataclass(frozen=True)
class Recount:
    plays: int
    ms: int
    artists: dict[str, int]
    tracks: dict[str, int]
    streak: int
    busiest: BusiestWeekday | None
    new: set[str]


def recount(plays: list[PlayIn], year: int) -> Recount:
    """The year's figures straight from the plays, computed independently of the store."""
    in_year = [p for p in plays if p.started_at.astimezone(UTC).year == year]
    per_day: Counter[date] = Counter(p.started_at.astimezone(UTC).date() for p in in_year)
    artists: Counter[str] = Counter(a for p in in_year for a in p.artist_names)
    tracks: Counter[str] = Counter(p.track_name for p in in_year)
    first_heard: dict[str, date] = {}
    for p in sorted(plays, key=lambda p: p.started_at):
        for artist in p.artist_names:
            first_heard.setdefault(artist, p.started_at.astimezone(UTC).date())
    longest = 0
    for day in per_day:
        if day - timedelta(days=1) not in per_day:
            length = 1
            while day + timedelta(days=length) in per_day:
                length += 1
            longest = max(longest, length)
    weekdays: Counter[int] = Counter()
    for day, count in per_day.items():
        weekdays[day.weekday()] += count
    return Recount(
        plays=len(in_year),
        ms=sum(p.ms_played for p in in_year),
        artists=dict(artists),
        tracks=dict(tracks),
        streak=longest,
        busiest=BusiestWeekday(
            min(w for w, c in weekdays.items() if c == max(weekdays.values())),
            max(weekdays.values()),
        )
        if weekdays
        else None,
        new={a for a, first in first_heard.items() if first.year == year},
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(listened, min_size=1, max_size=14))
@example(
    history=[Listened(-1, 0, 2, 90_000), Listened(0, 1, 1, 40_000), Listened(1, 2, 3, 150_000)]
)
async def test_the_year_equals_a_recount_from_raw_plays(
    db_sessions: async_sessionmaker[AsyncSession], history: list[Listened]
) -> None:
    await clear_all(db_sessions)
    plays = as_plays(history)
    await store(db_sessions, plays)
    for year in (2025, 2026):
        expected = recount(plays, year)
        span = YearDays.of(year)
        async with db_sessions() as session:
            days = await days_played(session, USER, span)
            artists = await year_top(session, USER, ItemKind.ARTIST, span, limit=50)
            tracks = await year_top(session, USER, ItemKind.TRACK, span, limit=50)
            new = await new_artists(session, USER, span, names=50)
        assert sum(d.plays for d in days) == expected.plays
        assert sum(d.ms_played for d in days) == expected.ms
        assert {a.item.name: a.plays for a in artists} == expected.artists
        assert {t.item.name: t.plays for t in tracks} == expected.tracks
        for ranked in (artists, tracks):
            keys = [(e.plays, e.ms_played) for e in ranked]
            assert keys == sorted(keys, reverse=True)
        streak = longest_streak(days)
        assert (streak.days if streak else 0) == expected.streak
        assert busiest_weekday(days) == expected.busiest
        assert new.count == len(expected.new)
        assert set(new.names) == expected.new
