"""HistoryRecorder stores imported plays exactly as record_plays would, batch after batch, and a
failed batch teaches it nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Play, PlayDay, PlayTotal
from bot.domain import HistoryPlay, PlayIn, PlaySource
from bot.services.imports.importer import import_history
from bot.services.imports.storing import store_sink
from bot.store.play_imports import HistoryRecorder
from bot.store.plays import RecordResult, record_plays
from sandbox.history_files import write_extended_zip
from tests.helpers.plays import (
    assert_aggregates_match_a_recount,
    assert_no_stored_duplicates,
    stored_plays,
)

IMPORTER, REFERENCE = 501, 502
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
TRACKS = [
    ("Hyperballad", "Björk", "Post", "4uLU6hMCjMI75M1A2tKUQC"),
    ("Hyperballad", "björk ", "Post", None),  # the same names without the ID
    ("Army of Me", "Björk", "Post", "7xLU6hMCjMI75M1A2tKUQD"),
    ("Jóga", "Björk", None, None),  # no album, no ID
    ("Teardrop", "Massive Attack", "Mezzanine", "67Hna13dNDkZvBpTXRIaOJ"),
]


def history(minutes_and_tracks: Sequence[tuple[int, int, int]]) -> list[HistoryPlay]:
    """Plays at T0 + minutes, of TRACKS[index], lasting seconds."""
    return [
        HistoryPlay(T0 + minute * MINUTE, seconds * 1000, *TRACKS[index])
        for minute, index, seconds in minutes_and_tracks
    ]


def as_play_in(user: int, play: HistoryPlay) -> PlayIn:
    return PlayIn(
        discord_user_id=user,
        started_at=play.started_at,
        ms_played=play.ms_played,
        source=PlaySource.IMPORT,
        track_name=play.track_name,
        artist_names=(play.artist_name,),
        album_name=play.album_name,
        track_id=play.track_id,
    )


BATCHES = [
    # repeats within a batch closer than a play's ms (one counts), a play of the same track
    # after it ended (counts), the ID-less description of a track known by ID
    history([(0, 0, 200), (2, 0, 200), (4, 0, 60), (10, 1, 200), (20, 3, 90), (30, 4, 300)]),
    # the next batch repeats the last play of the first (a duplicate across batches), and
    # brings a new track
    history([(30, 4, 300), (31, 4, 300), (40, 2, 180), (50, 3, 90), (60 * 26, 0, 200)]),
    history([(60 * 24 * 3 + m, m % 5, 120) for m in range(0, 60, 3)]),
]


async def test_imported_batches_store_what_record_plays_stores(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    recorder = HistoryRecorder()
    for batch in BATCHES:
        async with each_db_sessions() as session:
            imported = await recorder.record(session, IMPORTER, batch)
            await session.commit()
        async with each_db_sessions() as session:
            reference = await record_plays(session, [as_play_in(REFERENCE, p) for p in batch])
            await session.commit()
        assert imported == reference
    async with each_db_sessions() as session:
        again = await recorder.record(session, IMPORTER, BATCHES[0])
        await session.commit()
    assert again == RecordResult(added=0, duplicates=len(BATCHES[0]))

    async with each_db_sessions() as session:
        assert await rows_of(session, IMPORTER) == await rows_of(session, REFERENCE)
        await assert_aggregates_match_a_recount(session)
        await assert_no_stored_duplicates(session)


async def rows_of(session: AsyncSession, user: int) -> dict[str, list[tuple[object, ...]]]:
    plays = await session.execute(
        select(Play.started_at, Play.track_item_id, Play.ms_played, Play.source)
        .where(Play.discord_user_id == user)
        .order_by(Play.started_at, Play.track_item_id)
    )
    days = await session.execute(
        select(PlayDay.kind, PlayDay.day, PlayDay.item_id, PlayDay.plays, PlayDay.ms_played)
        .where(PlayDay.discord_user_id == user)
        .order_by(PlayDay.kind, PlayDay.day, PlayDay.item_id)
    )
    totals = await session.execute(
        select(PlayTotal.kind, PlayTotal.item_id, PlayTotal.plays, PlayTotal.ms_played)
        .where(PlayTotal.discord_user_id == user)
        .order_by(PlayTotal.kind, PlayTotal.item_id)
    )
    return {
        "plays": [tuple(row) for row in plays],
        "days": [tuple(row) for row in days],
        "totals": [tuple(row) for row in totals],
    }


async def test_naive_or_other_zone_start_times(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    play = history([(0, 0, 200)])[0]
    async with each_db_sessions() as session:
        with pytest.raises(ValueError, match="naive"):
            await HistoryRecorder().record(
                session, IMPORTER, [play._replace(started_at=play.started_at.replace(tzinfo=None))]
            )
    elsewhere = play.started_at.astimezone(datetime.now().astimezone().tzinfo)
    async with each_db_sessions() as session:
        await HistoryRecorder().record(session, IMPORTER, [play._replace(started_at=elsewhere)])
        await session.commit()
    async with each_db_sessions() as session:
        assert (await rows_of(session, IMPORTER))["plays"][0][0] == play.started_at


class FailingOnce:
    """The real recorder, whose `fail_on`-th batch is stored and then fails (rolled back)."""

    def __init__(self, recorder: HistoryRecorder, fail_on: int) -> None:
        self.recorder = recorder
        self.calls = 0
        self.fail_on = fail_on

    async def record(
        self, session: AsyncSession, discord_user_id: int, plays: Sequence[HistoryPlay]
    ) -> RecordResult:
        self.calls += 1
        result = await self.recorder.record(session, discord_user_id, plays)
        if self.calls == self.fail_on:
            raise ConnectionError("the database went away after the writes")
        return result


async def test_a_failure_mid_import_then_a_retry_stores_exactly_the_full_set(
    each_db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 3_000, seed=21, per_file=900)
    recorder = HistoryRecorder()  # the same recorder, as the bot keeps one for every import
    failing = FailingOnce(recorder, fail_on=3)
    with pytest.raises(ConnectionError):
        await import_history(
            IMPORTER, written.path, store_sink(each_db_sessions, failing.record), batch_size=400
        )
    assert await stored_plays(each_db_sessions, IMPORTER) == 800  # two batches committed

    retry = await import_history(
        IMPORTER, written.path, store_sink(each_db_sessions, recorder.record), batch_size=400
    )

    assert (retry.added, retry.duplicates) == (written.counted - 800, 800)
    assert await stored_plays(each_db_sessions, IMPORTER) == written.counted
    async with each_db_sessions() as session:
        await assert_aggregates_match_a_recount(session)
        await assert_no_stored_duplicates(session)
    again = await import_history(
        IMPORTER, written.path, store_sink(each_db_sessions, recorder.record), batch_size=1_000
    )
    assert (again.added, again.duplicates) == (0, written.counted)


async def test_a_full_memory_starts_over(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    recorder = HistoryRecorder(limit=3)
    for batch in BATCHES:
        async with each_db_sessions() as session:
            await recorder.record(session, IMPORTER, batch)
            await session.commit()
    async with each_db_sessions() as session:
        await recorder.record(session, REFERENCE, [p for batch in BATCHES for p in batch])
        await session.commit()
        assert (await rows_of(session, IMPORTER)) == (await rows_of(session, REFERENCE))
