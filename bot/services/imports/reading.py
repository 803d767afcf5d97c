"""Reading an upload in a process of its own: `ReadingProcess` starts the reading child
(`bot.services.imports.child`) and takes its frames, a batch of plays at a time.

Why a process and not a thread: decoding hundreds of thousands of JSON rows is pure Python
work, and in a thread it holds the GIL that the event loop and the store need.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import msgspec

from bot.domain import HistoryPlay
from bot.services.imports.child import LENGTH, Counts, Frame, Request, framed
from bot.services.imports.errors import ImportProblem, ImportRefused
from bot.services.imports.reader import ReadStats
from bot.services.imports.rows import SkipReason
from bot.services.imports.sources import ZipLimits

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])


class ReadingFailed(RuntimeError):
    """The reading process broke down (not the files: those are `ImportRefused`)."""


class ReadingProcess:
    """The child reading one upload. `checked()` once, then `next_batch()` until it returns
    None; `close()` always (it stops a child still running)."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        batch_size: int,
        chunk_chars: int,
        limits: ZipLimits,
    ) -> None:
        self._request = Request(
            paths=[str(path) for path in paths],
            batch_size=batch_size,
            chunk_chars=chunk_chars,
            max_entries=limits.max_entries,
            max_total_bytes=limits.max_total_bytes,
            max_ratio=limits.max_ratio,
        )
        self._process: asyncio.subprocess.Process | None = None
        self._decoder = msgspec.msgpack.Decoder(Frame)
        self.stats = ReadStats()
        """The child's counts as of its last frame; of `artists` only the top one travels."""

    async def checked(self) -> None:
        """Start the child and wait until every file passed the check (ImportRefused if
        one did not)."""
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, (_PACKAGE_ROOT, environment.get("PYTHONPATH")))
        )
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.services.imports",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=environment,
        )
        assert self._process.stdin is not None
        self._process.stdin.write(framed(msgspec.msgpack.encode(self._request)))
        await self._process.stdin.drain()
        self._process.stdin.close()
        await self._read()

    async def next_batch(self) -> list[HistoryPlay] | None:
        frame = await self._read()
        return None if frame.last else frame.plays

    async def _read(self) -> Frame:
        assert self._process is not None and self._process.stdout is not None
        try:
            head = await self._process.stdout.readexactly(LENGTH.size)
            body = await self._process.stdout.readexactly(LENGTH.unpack(head)[0])
        except asyncio.IncompleteReadError:
            code = await self._process.wait()
            raise ReadingFailed(f"the reading process ended with {code}") from None
        frame = self._decoder.decode(body)
        if frame.refused is not None:
            problem, reason = frame.refused
            raise ImportRefused(ImportProblem(problem), reason)
        if frame.failed is not None:
            raise ReadingFailed(frame.failed)
        if frame.counts is not None:
            self._take(frame.counts)
        return frame

    def _take(self, counts: Counts) -> None:
        stats = self.stats
        stats.files_total = counts.files_total
        stats.files_done = counts.files_done
        stats.plays = counts.plays
        stats.skipped = Counter({SkipReason(k): n for k, n in counts.skipped.items()})
        stats.first_play = counts.first_play
        stats.last_play = counts.last_play
        if counts.top_artist is not None:
            name, plays = counts.top_artist
            stats.artists = Counter({name: plays})

    async def close(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
