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

Reading runs in a child process of the import's own (`reading.ReadingProcess`), so decoding
JSON never holds the GIL the event loop and the store need. The child reads the next batch
while this process stores the current one: at most about two batches are in memory.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.domain import HistoryPlay
from bot.services.imports.jsonstream import DEFAULT_CHUNK_CHARS
from bot.services.imports.reading import ReadingProcess
from bot.services.imports.rows import SkipReason
from bot.services.imports.sources import ZipLimits

DEFAULT_BATCH_SIZE = 10_000


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
    reading = ReadingProcess(
        files, batch_size=batch_size, chunk_chars=chunk_chars, limits=limits or ZipLimits()
    )
    stats = reading.stats
    next_batch: asyncio.Task[list[HistoryPlay] | None] | None = None

    async def read() -> list[HistoryPlay] | None:
        batch = await reading.next_batch()
        report(ImportPhase.STORING)
        return batch

    try:
        report(ImportPhase.CHECKING)
        await reading.checked()
        report(ImportPhase.CHECKING)
        next_batch = asyncio.ensure_future(read())
        while (batch := await next_batch) is not None:
            next_batch = asyncio.ensure_future(read())  # read on while storing
            result = await sink(discord_user_id, batch)
            added += result.added
            duplicates += result.duplicates
            report(ImportPhase.STORING)
    finally:
        if next_batch is not None and not next_batch.done():
            next_batch.cancel()
            await asyncio.gather(next_batch, return_exceptions=True)
        await reading.close()
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
