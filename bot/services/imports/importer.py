"""The import use case: a member's uploaded history files become plays.

First a check that stores nothing and is cheap (`HistoryReader.check`): every ZIP entry is
decompressed and its CRC checked, and every file's first row and last bytes looked at, so a
file cut short, damaged, empty or of another shape is refused before a single play is written.
Then one reading pass hands the plays to the sink in batches, each batch its own transaction.
The sink (`HistoryRecorder`, the rules of `record_plays`) is idempotent and dedupes, so if
that pass fails part way (a row broken in the middle of an intact-looking file, the database
gone, the bot stopped), what was committed stays, nothing is counted twice, and importing the
same files again adds exactly what is missing. A full parse-only first pass would double the
reading time to guard against a broken row inside a file whose ZIP CRC and ends check out,
which Spotify's exports do not produce.

Reading runs in one worker thread of the import's own, one batch at a time, so the event loop
keeps serving members meanwhile (and one thread keeps the allocator to one arena). The thread
reads the next batch while the event loop stores the current one: at most two batches are in
memory, and JSON decoding overlaps the database's work (SQLite and asyncpg release the GIL).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from bot.db.engine import Session, Sessions, session_scope
from bot.domain import HistoryPlay
from bot.services.imports.jsonstream import DEFAULT_CHUNK_CHARS
from bot.services.imports.reader import HistoryReader
from bot.services.imports.rows import SkipReason
from bot.services.imports.sources import ZipLimits

DEFAULT_BATCH_SIZE = 10_000
T = TypeVar("T")
R = TypeVar("R")


class RecordCount(Protocol):
    """What storing a batch reports (`bot.store.plays.RecordResult` is one)."""

    @property
    def added(self) -> int: ...

    @property
    def duplicates(self) -> int: ...


class PlaySink(Protocol):
    """Stores one batch of a member's plays in one transaction; storing a play again adds
    nothing."""

    def __call__(
        self, discord_user_id: int, plays: Sequence[HistoryPlay], /
    ) -> Awaitable[RecordCount]: ...


Recorder = Callable[[Session, int, Sequence[HistoryPlay]], Awaitable[RecordCount]]


def store_sink(sessions: Sessions, record: Recorder) -> PlaySink:
    """A sink that stores each batch with `record` (`bot.store.play_imports.HistoryRecorder`)
    in a transaction of its own; plays grow the shared catalog, hence `shared_writes`."""

    async def sink(discord_user_id: int, plays: Sequence[HistoryPlay], /) -> RecordCount:
        async with session_scope(sessions, shared_writes=True) as session:
            return await record(session, discord_user_id, plays)

    return sink


class ImportPhase(enum.Enum):
    CHECKING = "checking"  # checking every file through, storing nothing
    STORING = "storing"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    phase: ImportPhase
    files_done: int
    files_total: int
    plays_read: int
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

    def report(phase: ImportPhase) -> None:
        if progress is not None:
            progress(
                ImportProgress(
                    phase=phase,
                    files_done=stats.files_done,
                    files_total=stats.files_total,
                    plays_read=stats.plays,
                    added=added,
                    duplicates=duplicates,
                    skipped=dict(stats.skipped),
                )
            )

    added = duplicates = 0
    reader = HistoryReader(files, limits=limits, chunk_chars=chunk_chars)
    stats = reader.stats
    batches = _InThread(reader.batches(batch_size))
    reading: asyncio.Future[list[HistoryPlay] | None] | None = None
    try:
        report(ImportPhase.CHECKING)
        await batches.run(reader.check)
        report(ImportPhase.CHECKING)
        reading = batches.step(_next_batch)
        while (batch := await reading) is not None:
            reading = batches.step(_next_batch)  # read the next batch while this one is stored
            result = await sink(discord_user_id, batch)
            added += result.added
            duplicates += result.duplicates
            report(ImportPhase.STORING)
    finally:
        if reading is not None and not reading.done():
            await asyncio.gather(asyncio.shield(reading), return_exceptions=True)
        await batches.close()
    top = stats.top_artist
    return ImportSummary(
        files=stats.files_total,
        plays_read=stats.plays,
        added=added,
        duplicates=duplicates,
        first_play=stats.first_play,
        last_play=stats.last_play,
        top_artist=top[0] if top else None,
        top_artist_plays=top[1] if top else 0,
        skipped=dict(stats.skipped),
    )


def _next_batch(batches: Iterator[list[HistoryPlay]]) -> list[HistoryPlay] | None:
    return next(batches, None)


class _InThread(Generic[T]):
    """An iterator advanced in the import's own worker thread, one step at a time; closing
    waits for a step still running (a cancelled import must not close files under it)."""

    def __init__(self, iterator: Iterator[T]) -> None:
        self._iterator = iterator
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import")

    async def run(self, function: Callable[[], R]) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    def step(self, step: Callable[[Iterator[T]], R]) -> asyncio.Future[R]:
        """Start `step` on the iterator in the thread; the future holds its result."""
        return asyncio.get_running_loop().run_in_executor(
            self._executor, lambda: step(self._iterator)
        )

    async def close(self) -> None:
        close = getattr(self._iterator, "close", None)
        if close is not None:
            await asyncio.shield(self.run(close))
        self._executor.shutdown(wait=False)
