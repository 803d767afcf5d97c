from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import (
    CatalogItem,
    CatalogName,
    CatalogTrack,
    Play,
    PlayDay,
    PlayTotal,
    TrackArtist,
)
from bot.domain import DEFAULT_PERIOD, ItemKind, Period, PlayIn, PlaySource
from bot.store.play_catalog import normalise
from bot.store.plays import (
    ArtistKey,
    RecordResult,
    TrackIds,
    TrackKey,
    attach_spotify_ids,
    delete_plays,
    find_item,
    has_plays_since,
    last_play,
    play_counts,
    recent_plays,
    record_plays,
    top_items,
    tracks_missing_ids,
)
from tests.helpers.plays import assert_aggregates_match_a_recount, assert_no_stored_duplicates

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def sid(letter: str, n: int = 0) -> str:
    """A 22-character base62 Spotify ID."""
    return f"{letter}{n:021d}"


@dataclass(frozen=True)
class Song:
    title: str
    artists: tuple[str, ...]
    track_id: str | None = None
    album: str | None = None
    duration_ms: int | None = 200_000
    artist_ids: tuple[str, ...] = ()
    album_id: str | None = None
    enriched: TrackIds | None = None  # what Spotify says, when it differs from the names

    def play(
        self,
        user: int,
        at: datetime,
        ms: int = 180_000,
        source: PlaySource = PlaySource.PRESENCE,
        with_ids: bool = False,
    ) -> PlayIn:
        return PlayIn(
            discord_user_id=user,
            started_at=at,
            ms_played=ms,
            source=source,
            track_name=self.title,
            artist_names=self.artists,
            album_name=self.album,
            track_id=self.track_id,
            artist_ids=self.artist_ids if with_ids else (),
            album_id=self.album_id if with_ids else None,
            duration_ms=self.duration_ms,
        )

    def ids(self) -> TrackIds:
        assert self.track_id is not None
        if self.enriched is not None:
            return self.enriched
        return TrackIds(
            self.track_id,
            tuple(zip(self.artist_ids, self.artists, strict=True)),
            (self.album_id, self.album or "") if self.album_id else None,
        )


ONE = Song("One", ("Alpha",), sid("T", 1), "First", 200_000, (sid("A", 1),), sid("L", 1))
TWO = Song(
    "Two",
    ("Alpha", "Beta"),
    sid("T", 2),
    "Second",
    240_000,
    (sid("A", 1), sid("B", 2)),
    sid("L", 2),
)
THREE = Song("Gamma song", ("  gamma ",), None, None, None)
FOUR = Song("Four", ("Beta",), sid("T", 4), "Fourth", 150_000, (sid("B", 2),), sid("L", 4))
FIVE = Song("Song  five", ("ALPHA",), None, "First", None)
SIX = Song(
    "Six",
    ("Alpha", "Gamma"),
    sid("T", 6),
    "Sixth",
    100_000,
    (sid("A", 1), sid("G", 3)),
    sid("L", 6),
)
SEVEN = Song(
    "Seven",
    ("Zeta",),
    sid("T", 7),
    None,
    90_000,
    enriched=TrackIds(
        sid("T", 7), ((sid("Z", 7), "Zeta Official"), (sid("B", 2), "Beta")), (sid("L", 7), "7")
    ),
)
SONGS = [ONE, TWO, THREE, FOUR, FIVE, SIX, SEVEN]


async def record(sessions: async_sessionmaker[AsyncSession], plays: list[PlayIn]) -> RecordResult:
    async with sessions() as session:
        result = await record_plays(session, plays)
        await session.commit()
    return result


async def attach(sessions: async_sessionmaker[AsyncSession], *songs: Song) -> None:
    async with sessions() as session:
        await attach_spotify_ids(session, [song.ids() for song in songs])
        await session.commit()


async def top(
    sessions: async_sessionmaker[AsyncSession],
    kind: ItemKind,
    users: list[int] | None = None,
    since: date | None = None,
    limit: int = 10,
    offset: int = 0,
) -> list[tuple[str, int]]:
    async with sessions() as session:
        rows = await top_items(session, users, kind, since, limit, offset)
    return [(item.name, plays) for item, plays in rows]


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        return {
            table.__tablename__: int(await session.scalar(select(func.count()).select_from(table)))
            for table in (Play, PlayDay, PlayTotal)
        }


# --- domain -------------------------------------------------------------------------------


def test_periods_have_days_and_words() -> None:
    assert [(p.value, p.days, p.words) for p in Period] == [
        ("week", 7, "last 7 days"),
        ("month", 30, "last 30 days"),
        ("year", 365, "last 365 days"),
        ("all", None, "all time"),
    ]
    assert DEFAULT_PERIOD is Period.MONTH


def test_names_normalise_case_width_and_spaces() -> None:
    assert normalise("  The\tBEATLES  ") == "the beatles"
    assert normalise("Ｂｅｙｏｎｃé") == normalise("beyoncé")
    assert normalise("Straße") == normalise("STRASSE")


# --- recording ----------------------------------------------------------------------------


async def test_one_listening_heard_by_two_sources_counts_once(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    presence = ONE.play(1, T0)
    polled = ONE.play(
        1, T0 + timedelta(seconds=20), source=PlaySource.RECENTLY_PLAYED, with_ids=True
    )
    again_later = ONE.play(1, T0 + timedelta(seconds=200))  # one track length on: a new play

    assert await record(each_db_sessions, [presence]) == RecordResult(1, 0)
    assert await record(each_db_sessions, [polled, again_later]) == RecordResult(1, 1)

    async with each_db_sessions() as session:
        rows = await recent_plays(session, 1, limit=10)
        assert [(r.started_at, r.source) for r in rows] == [
            (T0 + timedelta(seconds=200), PlaySource.PRESENCE),
            (T0, PlaySource.PRESENCE),
        ]
        await assert_aggregates_match_a_recount(session)


async def test_recording_the_same_plays_again_adds_nothing(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    plays = [
        song.play(user, T0 + n * 7 * MINUTE, source=PlaySource.IMPORT)
        for n, song in enumerate(SONGS * 3)
        for user in (1, 2)
    ]
    first = await record(each_db_sessions, plays)
    before = await counts(each_db_sessions)

    again = await record(each_db_sessions, list(reversed(plays)))

    assert first == RecordResult(len(plays), 0)
    assert again == RecordResult(0, len(plays))
    assert await counts(each_db_sessions) == before


async def test_repeats_within_a_batch_and_unknown_lengths(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # THREE has no known length: the longer play's ms decides, then 30 s.
    plays = [
        THREE.play(1, T0, ms=60_000),
        THREE.play(1, T0 + timedelta(seconds=50), ms=40_000),  # within 60 s of the first
        THREE.play(1, T0 + timedelta(seconds=70), ms=40_000),  # 70 s after: new
        THREE.play(1, T0 + timedelta(minutes=5), ms=0),
        THREE.play(1, T0 + timedelta(minutes=5, seconds=29), ms=0),  # within 30 s
        ONE.play(2, T0),  # another member: never a duplicate of member 1
    ]
    assert await record(each_db_sessions, plays) == RecordResult(4, 2)


async def test_naive_start_times_are_refused(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(ValueError, match="naive"):
        await record(each_db_sessions, [ONE.play(1, T0.replace(tzinfo=None))])


async def test_catalog_grows_with_names_grouped_until_ids_are_known(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await record(
        each_db_sessions,
        [
            ONE.play(1, T0),
            FIVE.play(1, T0 + 10 * MINUTE),  # "ALPHA": the same artist as "Alpha"
            TWO.play(2, T0),
        ],
    )
    async with each_db_sessions() as session:
        names = await session.scalars(
            select(CatalogItem.spotify_id).where(CatalogItem.kind == int(ItemKind.ARTIST))
        )
        artist_ids = list(names)
        assert len(artist_ids) == 2 and all(x.startswith("~") for x in artist_ids)
        missing = await tracks_missing_ids(session, 10)
        assert {m.spotify_id for m in missing} == {ONE.track_id, TWO.track_id}
    assert await top(each_db_sessions, ItemKind.ARTIST) == [("Alpha", 3), ("Beta", 1)]

    await attach(each_db_sessions, ONE)

    async with each_db_sessions() as session:
        alpha = await session.get(
            CatalogItem,
            await find_item(session, ItemKind.ARTIST, name="alpha"),
        )
        assert alpha is not None and alpha.spotify_id == sid("A", 1)
        assert [m.spotify_id for m in await tracks_missing_ids(session, 10)] == [TWO.track_id]
        await assert_aggregates_match_a_recount(session)
    # the name-only Alpha was merged into the identified one: still one artist, all plays
    assert await top(each_db_sessions, ItemKind.ARTIST) == [("Alpha", 3), ("Beta", 1)]
    assert await top(each_db_sessions, ItemKind.ALBUM) == [("First", 2), ("Second", 1)]

    # later plays by name only find the identified artist
    await record(each_db_sessions, [THREE.play(3, T0), Song("x", ("alpha",)).play(3, T0)])
    async with each_db_sessions() as session:
        artist_rows = await session.scalar(
            select(func.count()).where(CatalogItem.kind == int(ItemKind.ARTIST))
        )
        assert artist_rows == 3  # Alpha, Beta, gamma
        await assert_aggregates_match_a_recount(session)
    assert (await top(each_db_sessions, ItemKind.ARTIST))[0] == ("Alpha", 4)


async def test_enrichment_moves_plays_to_the_new_credits_and_album(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    lone = replace(SIX, artists=("Alpha",), album="Old name")
    await record(each_db_sessions, [lone.play(1, T0), lone.play(1, T0 + 5 * MINUTE)])
    await record(each_db_sessions, [THREE.play(1, T0)])  # "gamma", name only

    await attach(each_db_sessions, SIX)  # credits Alpha and Gamma, album Sixth

    assert await top(each_db_sessions, ItemKind.ARTIST) == [("Gamma", 3), ("Alpha", 2)]
    assert await top(each_db_sessions, ItemKind.ALBUM) == [("Sixth", 2)]
    async with each_db_sessions() as session:
        await assert_aggregates_match_a_recount(session)
        row = await last_play(session, 1)
        assert row is not None
        assert row.artist_names == ("Alpha", "Gamma")
        assert row.album_name == "Sixth"
        names = await session.scalar(select(func.count()).select_from(CatalogName))
        assert names is not None and names > 0


async def test_a_merge_never_credits_an_artist_twice(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    duet = Song("Duet", ("Zed", "Beta"), sid("T", 8), None, 100_000)
    await record(each_db_sessions, [FOUR.play(1, T0, with_ids=True)])  # Beta is B2
    await record(each_db_sessions, [duet.play(1, T0 + 10 * MINUTE)])  # credits ~Zed and B2
    renamed = replace(FOUR, track_id=sid("T", 9), artists=("Zed",), album=None)
    await record(each_db_sessions, [renamed.play(1, T0 + 20 * MINUTE, with_ids=True)])

    # Spotify knows B2 as "Zed" too: ~Zed merges into B2, which the duet credits already
    assert await top(each_db_sessions, ItemKind.ARTIST) == [("Beta", 3)]
    async with each_db_sessions() as session:
        await assert_aggregates_match_a_recount(session)
        credits = await session.scalars(select(TrackArtist.artist_item_id))
        assert len(list(credits)) == 3  # Four, Duet, renamed Four: one credit each


async def test_recently_played_ids_enrich_a_track_known_from_presence(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await record(each_db_sessions, [TWO.play(1, T0)])
    await record(
        each_db_sessions,
        [TWO.play(1, T0 + 10 * MINUTE, source=PlaySource.RECENTLY_PLAYED, with_ids=True)],
    )
    async with each_db_sessions() as session:
        assert await tracks_missing_ids(session, 10) == []
        beta = await find_item(session, ItemKind.ARTIST, name="Beta")
        item = await session.get(CatalogItem, beta)
        assert item is not None and item.spotify_id == sid("B", 2)
        await assert_aggregates_match_a_recount(session)


async def test_deleting_a_members_plays_removes_them_and_their_aggregates(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await record(each_db_sessions, [ONE.play(1, T0), TWO.play(1, T0 + 5 * MINUTE)])
    await record(each_db_sessions, [ONE.play(2, T0)])
    async with each_db_sessions() as session:
        assert await delete_plays(session, 1) == 2
        await session.commit()
    async with each_db_sessions() as session:
        for table in (Play, PlayDay, PlayTotal):
            left = await session.scalars(select(table.discord_user_id).distinct())  # type: ignore[attr-defined]
            assert list(left) == [2]
        assert await recent_plays(session, 1, limit=5) == []
        assert await last_play(session, 1) is None
        await assert_aggregates_match_a_recount(session)


# --- reading ------------------------------------------------------------------------------


async def test_recent_plays_page_backwards_with_names(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    songs = [ONE, TWO, THREE, FOUR]
    await record(
        each_db_sessions, [song.play(1, T0 + n * 10 * MINUTE) for n, song in enumerate(songs)]
    )
    async with each_db_sessions() as session:
        first = await recent_plays(session, 1, limit=3)
        rest = await recent_plays(session, 1, limit=3, before=first[-1].started_at)
    assert [r.track_name for r in first] == ["Four", "Gamma song", "Two"]
    assert [r.track_name for r in rest] == ["One"]
    assert first[1].artist_names == ("  gamma ",)
    assert first[1].track_id is None and first[1].album_name is None
    assert first[2].artist_names == ("Alpha", "Beta")
    assert (first[2].track_id, first[2].album_name) == (TWO.track_id, "Second")


async def test_has_plays_since(each_db_sessions: async_sessionmaker[AsyncSession]) -> None:
    await record(each_db_sessions, [ONE.play(1, T0)])
    async with each_db_sessions() as session:
        assert await has_plays_since(session, [1, 2], T0)
        assert not await has_plays_since(session, [2], T0 - timedelta(days=30))
        assert not await has_plays_since(session, [1], T0 + MINUTE)
        assert await has_plays_since(session, None, T0)
        assert not await has_plays_since(session, [], T0)


async def test_top_items_over_periods(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    today = T0.date()
    plays = [
        ONE.play(1, T0),
        ONE.play(1, T0 - timedelta(days=3)),
        ONE.play(1, T0 - timedelta(days=20)),
        TWO.play(1, T0 - timedelta(days=100)),
        TWO.play(2, T0 - timedelta(days=1)),
        TWO.play(2, T0 - timedelta(days=1, hours=1)),
        FOUR.play(2, T0 - timedelta(days=400)),
        FOUR.play(3, T0),
    ]
    await record(each_db_sessions, plays)

    def since(period: Period) -> date | None:
        return None if period.days is None else today - timedelta(days=period.days - 1)

    week, month, year = since(Period.WEEK), since(Period.MONTH), since(Period.YEAR)
    # ties: the item first catalogued first
    assert await top(each_db_sessions, ItemKind.TRACK, [1, 2], week) == [("One", 2), ("Two", 2)]
    assert await top(each_db_sessions, ItemKind.TRACK, [1], month) == [("One", 3)]
    assert await top(each_db_sessions, ItemKind.ARTIST, [1, 2], year) == [
        ("Alpha", 6),
        ("Beta", 3),
    ]
    assert await top(each_db_sessions, ItemKind.ARTIST, [1, 2, 3]) == [
        ("Alpha", 6),
        ("Beta", 5),
    ]
    assert await top(each_db_sessions, ItemKind.ARTIST, [1, 2, 3], offset=1) == [("Beta", 5)]
    assert await top(each_db_sessions, ItemKind.ALBUM, [3]) == [("Fourth", 1)]
    assert await top(each_db_sessions, ItemKind.ALBUM, [], None) == []


async def test_play_counts_for_now_playing(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await record(
        each_db_sessions,
        [ONE.play(1, T0), ONE.play(1, T0 + 5 * MINUTE), TWO.play(1, T0 + 10 * MINUTE)],
    )
    async with each_db_sessions() as session:
        by_id = await play_counts(
            session,
            1,
            track_key=TrackKey("ignored", "ignored", ONE.track_id),
            artist_key=ArtistKey("ALPHA"),
        )
        by_name = await play_counts(
            session, 1, track_key=TrackKey("two", "alpha"), artist_key=ArtistKey("Beta")
        )
        unknown = await play_counts(session, 2, track_key=TrackKey("One", "Alpha"), artist_key=None)
    assert (by_id.track, by_id.artist) == (2, 3)
    assert (by_name.track, by_name.artist) == (1, 1)
    assert (unknown.track, unknown.artist) == (0, 0)
    assert by_id.artist_item is not None and by_id.artist_item != by_name.artist_item
    assert unknown.artist_item is None


# --- randomised: aggregates always equal a recount ----------------------------------------


@dataclass(frozen=True)
class Step:
    action: str
    user: int = 1
    plays: tuple[tuple[int, int, int, int, bool], ...] = ()  # song, minute, ms, source, ids
    song: int = 0


play_specs = st.tuples(
    st.integers(0, len(SONGS) - 1),
    st.integers(0, 3 * 24 * 60),
    st.integers(0, 600_000),
    st.sampled_from([int(s) for s in PlaySource]),
    st.booleans(),
)
steps = st.one_of(
    st.builds(
        Step,
        st.just("record"),
        st.integers(1, 3),
        st.lists(play_specs, min_size=1, max_size=12).map(tuple),
    ),
    st.builds(Step, st.just("attach"), song=st.sampled_from([0, 1, 3, 5, 6])),
    st.builds(Step, st.just("delete"), st.integers(1, 3)),
)


async def clear(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        for table in (PlayTotal, PlayDay, Play, TrackArtist, CatalogTrack, CatalogName):
            await session.execute(delete(table))
        await session.execute(delete(CatalogItem))
        await session.commit()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(steps, min_size=1, max_size=8))
async def test_aggregates_always_equal_a_recount_from_raw_plays(
    db_sessions: async_sessionmaker[AsyncSession], script: list[Step]
) -> None:
    await clear(db_sessions)
    for step in script:
        async with db_sessions() as session:
            if step.action == "record":
                await record_plays(
                    session,
                    [
                        SONGS[song].play(
                            step.user,
                            T0 + minute * MINUTE,
                            ms,
                            PlaySource(source),
                            with_ids,
                        )
                        for song, minute, ms, source, with_ids in step.plays
                    ],
                )
            elif step.action == "attach":
                await attach_spotify_ids(session, [SONGS[step.song].ids()])
            else:
                await delete_plays(session, step.user)
            await session.commit()
        async with db_sessions() as session:
            await assert_aggregates_match_a_recount(session)
            await assert_no_stored_duplicates(session)
