"""The import use case: a member's uploaded history files become plays.

Two passes over the files. The first reads everything and stores nothing: a file that is cut
short, damaged or of another shape is refused before a single play is written, and it yields
the summary's counts (plays, skipped by reason, date range, top artist). The second reads the
files again and hands the plays to the sink in batches, each batch its own transaction. The
sink (`record_plays`) is idempotent and dedupes, so if storing fails part way (the database
went away, the bot stopped), what was committed stays, nothing is counted twice, and importing
the same files again adds exactly what is missing. Reading runs in a worker thread, one batch
at a time, so the event loop keeps serving members meanwhile.
"""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.domain import PlayIn
from bot.services.imports.jsonstream import DEFAULT_CHUNK_CHARS
from bot.services.imports.reader import HistoryReader, ReadStats
from bot.services.imports.rows import SkipReason
from bot.services.imports.sources import ZipLimits

DEFAULT_BATCH_SIZE = 5_000
T = TypeVar("T")
R = TypeVar("R")


class RecordCount(Protocol):
    """What storing a batch reports (`bot.store.plays.RecordResult` is one)."""

    @property
    def added(self) -> int: ...

    @property
    def duplicates(self) -> int: ...


class PlaySink(Protocol):
    """Stores one batch of plays in one transaction; storing a play again adds nothing."""

    def __call__(self, plays: Sequence[PlayIn], /) -> Awaitable[RecordCount]: ...


Recorder = Callable[[AsyncSession, Sequence[PlayIn]], Awaitable[RecordCount]]


def store_sink(sessions: async_sessionmaker[AsyncSession], record: Recorder) -> PlaySink:
    """A sink that stores each batch with `record` (`bot.store.plays.record_plays`) in a
    transaction of its own; plays grow the shared catalog, hence `shared_writes`."""

    async def sink(plays: Sequence[PlayIn], /) -> RecordCount:
        async with session_scope(sessions, shared_writes=True) as session:
            return await record(session, plays)

    return sink


class ImportPhase(enum.Enum):
    CHECKING = "checking"  # reading every file through, storing nothing
    STORING = "storing"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    phase: ImportPhase
    files_done: int
    files_total: int
    plays_read: int  # in this phase
    plays_total: int | None  # known once checking is done
    added: int
    duplicates: int
    skipped: Mapping[SkipReason, int]


ProgressCallback = Callable[[ImportProgress], None]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    files: int
    plays_read: int  # plays that count, whether new or already stored
    added: int
    duplicates: int
    first_play: datetime | None
    last_play: datetime | None
    top_artist: str | None
    top_artist_plays: int
    skipped: Mapping[SkipReason, int]


async def import_history(
    discord_user_id: int,
    paths: Path | Sequence[Path],
    sink: PlaySink,
    progress: ProgressCallback | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    limits: ZipLimits | None = None,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
) -> ImportSummary:
    """Import the history files at `paths` (ZIPs or JSON files) as `discord_user_id`'s plays.

    Raises `ImportRefused` (storing nothing) when they are not a complete Spotify streaming
    history; an error of the sink propagates with the earlier batches kept (see the module).
    """
    files = [paths] if isinstance(paths, Path) else list(paths)

    def report(phase: ImportPhase, stats: ReadStats, read: int, total: int | None) -> None:
        if progress is not None:
            progress(
                ImportProgress(
                    phase,
                    stats.files_done,
                    stats.files_total,
                    read,
                    total,
                    added,
                    duplicates,
                    dict(checked.skipped),
                )
            )

    added = duplicates = 0
    checking = HistoryReader(files, limits=limits, chunk_chars=chunk_chars)
    checked = checking.stats
    rows = _InThread(checking.row_plays())
    try:
        while await rows.call(lambda it: sum(1 for _ in islice(it, batch_size))):
            report(ImportPhase.CHECKING, checked, checked.plays, None)
    finally:
        await rows.close()
    report(ImportPhase.CHECKING, checked, checked.plays, None)

    storing = HistoryReader(files, limits=limits, chunk_chars=chunk_chars)
    batches = _InThread(storing.batches(discord_user_id, batch_size))
    try:
        while (batch := await batches.call(lambda it: next(it, None))) is not None:
            result = await sink(batch)
            added += result.added
            duplicates += result.duplicates
            report(ImportPhase.STORING, storing.stats, storing.stats.plays, checked.plays)
    finally:
        await batches.close()
    top = checked.top_artist
    return ImportSummary(
        files=checked.files_total,
        plays_read=checked.plays,
        added=added,
        duplicates=duplicates,
        first_play=checked.first_play,
        last_play=checked.last_play,
        top_artist=top[0] if top else None,
        top_artist_plays=top[1] if top else 0,
        skipped=dict(checked.skipped),
    )


class _InThread(Generic[T]):
    """An iterator advanced in worker threads, one call at a time; closing waits for a call
    still running (a cancelled import must not close files under the reading thread)."""

    def __init__(self, iterator: Iterator[T]) -> None:
        self._iterator = iterator
        self._lock = threading.Lock()

    async def call(self, step: Callable[[Iterator[T]], R]) -> R:
        return await asyncio.to_thread(self._locked, step)

    def _locked(self, step: Callable[[Iterator[T]], R]) -> R:
        with self._lock:
            return step(self._iterator)

    async def close(self) -> None:
        close = getattr(self._iterator, "close", None)
        if close is not None:
            await asyncio.to_thread(self._locked, lambda _: close())
