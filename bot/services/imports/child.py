"""The reading child of an import (`python -m bot.services.imports`, started by
`reading.ReadingProcess`): it checks the upload's files, then reads them and writes the plays
to its stdout in frames, a batch at a time. It imports the reader and nothing else of the bot
(no asyncio, no database), so it stays at about 17 MB resident, and lowers its own priority:
on a busy machine the bot's event loop is served first.

A frame is a 4-byte length, then a msgpack `Frame`. The request (paths, limits, sizes) comes
in on stdin the same way. Writing blocks while the parent stores, which keeps the child at most
about a batch ahead.
"""

from __future__ import annotations

import contextlib
import os
import struct
import traceback
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import msgspec

from bot.domain import HistoryPlay
from bot.services.imports.errors import ImportRefused
from bot.services.imports.reader import HistoryReader, ReadStats
from bot.services.imports.sources import ZipLimits

LENGTH = struct.Struct("<I")
NICENESS = 5
"""How much lower the reading child runs than the bot (Unix nice)."""


class Request(msgspec.Struct, frozen=True):
    paths: list[str]
    batch_size: int
    chunk_chars: int
    max_entries: int
    max_total_bytes: int
    max_ratio: float


class Counts(msgspec.Struct, frozen=True):
    """`ReadStats` as it travels; `top_artist` only in the last frame."""

    files_total: int
    files_done: int
    plays: int
    skipped: dict[str, int]
    first_play: datetime | None
    last_play: datetime | None
    top_artist: tuple[str, int] | None = None


class Frame(msgspec.Struct, frozen=True, omit_defaults=True):
    """One message of the child: counts with plays (`plays` empty once the check passed and
    at the end, `last` then), or why it stopped."""

    counts: Counts | None = None
    plays: list[HistoryPlay] = []
    last: bool = False
    refused: tuple[str, str] | None = None  # (ImportProblem value, reason)
    failed: str | None = None  # the child's traceback


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """The child's side: read the request from `source`, write frames to `sink`."""
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    request = msgspec.msgpack.decode(_read_framed(source), type=Request)
    encoder = msgspec.msgpack.Encoder()
    reader = HistoryReader(
        [Path(path) for path in request.paths],
        limits=ZipLimits(request.max_entries, request.max_total_bytes, request.max_ratio),
        chunk_chars=request.chunk_chars,
    )

    def send(frame: Frame) -> None:
        sink.write(framed(encoder.encode(frame)))
        sink.flush()

    try:
        reader.check()
        send(Frame(counts=_counts(reader.stats)))
        for batch in reader.batches(request.batch_size):
            send(Frame(counts=_counts(reader.stats), plays=batch))
        send(Frame(counts=_counts(reader.stats, last=True), last=True))
    except ImportRefused as refused:
        send(Frame(refused=(refused.problem.value, refused.reason)))
    except BrokenPipeError:
        pass  # the parent stopped reading: nothing to tell
    except Exception:
        with contextlib.suppress(BrokenPipeError):
            send(Frame(failed=traceback.format_exc()))


def _counts(stats: ReadStats, *, last: bool = False) -> Counts:
    return Counts(
        files_total=stats.files_total,
        files_done=stats.files_done,
        plays=stats.plays,
        skipped={reason.value: n for reason, n in stats.skipped.items()},
        first_play=stats.first_play,
        last_play=stats.last_play,
        top_artist=stats.top_artist if last else None,
    )


def framed(body: bytes) -> bytes:
    return LENGTH.pack(len(body)) + body


def _read_framed(source: BinaryIO) -> bytes:
    (length,) = LENGTH.unpack(source.read(LENGTH.size))
    return source.read(length)
