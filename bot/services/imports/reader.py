"""Reading every history file of an upload, row by row, into plays and skip counts.

Synchronous and CPU-bound on purpose: the import use case runs it in a worker thread one batch
at a time, so the event loop keeps answering while a large file is read.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import msgspec

from bot.domain import HistoryPlay
from bot.services.imports.errors import ImportProblem, ImportRefused
from bot.services.imports.jsonstream import (
    DEFAULT_CHUNK_CHARS,
    DEFAULT_MAX_OBJECT_CHARS,
    JsonProblem,
    JsonStreamError,
    iter_array_batches,
    iter_array_objects,
)
from bot.services.imports.rows import (
    HistoryFormat,
    HistoryRow,
    RowPlay,
    SkipReason,
    as_row,
    detect_format,
    is_account_podcast,
    parse_account,
    parse_extended,
)
from bot.services.imports.sources import (
    UPLOAD_ADVICE,
    FileRole,
    HistoryFile,
    ZipLimits,
    open_history_files,
)

_ROLE_SKIPS = {FileRole.PODCAST: SkipReason.PODCAST, FileRole.VIDEO: SkipReason.VIDEO}
Parser = Callable[[HistoryRow], RowPlay | SkipReason]
_PARSERS: dict[HistoryFormat | None, Parser] = {
    HistoryFormat.EXTENDED: parse_extended,
    HistoryFormat.ACCOUNT: parse_account,
}
_ROWS = msgspec.json.Decoder(list[HistoryRow])


class _Counted(msgspec.Struct):
    """A row only counted (every row of a podcast or video file is skipped): nothing decoded."""


_COUNTED = _Counted()
_COUNTS = msgspec.json.Decoder(list[_Counted])


@dataclass(slots=True)
class ReadStats:
    """What has been read so far; the reader updates it in place."""

    files_total: int = 0
    files_done: int = 0
    plays: int = 0
    skipped: Counter[SkipReason] = field(default_factory=Counter)
    first_play: datetime | None = None
    last_play: datetime | None = None
    artists: Counter[str] = field(default_factory=Counter)

    @property
    def top_artist(self) -> tuple[str, int] | None:
        ranked = self.artists.most_common(1)
        return ranked[0] if ranked else None


class HistoryReader:
    """Reads the uploads at `paths` once; `stats` follows along. Raises `ImportRefused` for
    anything that is not a complete Spotify streaming history."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        limits: ZipLimits | None = None,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        max_object_chars: int = DEFAULT_MAX_OBJECT_CHARS,
    ) -> None:
        self._paths = tuple(paths)
        self._limits = limits or ZipLimits()
        self._chunk_chars = chunk_chars
        self._max_object_chars = max_object_chars
        self.stats = ReadStats()

    def check(self) -> None:
        """Refuse, before anything is stored, what can be told cheaply: a ZIP cut short or
        whose data fails its CRC, a file that is empty, not JSON, of another shape, or whose
        list does not end. Reads every history entry of a ZIP through (decompression only) and
        the first row and the last bytes of a loose file; does not decode every row."""
        stats = self.stats
        with ExitStack() as stack:
            files = open_history_files(self._paths, stack, self._limits)
            stats.files_total = len(files)
            stats.files_done = 0
            for file in files:
                self._check_file(file)
                stats.files_done += 1

    def _check_file(self, file: HistoryFile) -> None:
        try:
            with file.open() as raw:
                tap = _TailTap(raw)
                with _text(tap) as text:  # type: ignore[arg-type]
                    rows = iter_array_objects(
                        text,
                        chunk_chars=min(self._chunk_chars, _CHECK_CHUNK_CHARS),
                        max_object_chars=self._max_object_chars,
                    )
                    first = next(rows, None)
                    if (
                        first is not None
                        and file.role is FileRole.PLAYS
                        and detect_format(row := as_row(first)) is None
                        and not is_account_podcast(row)
                    ):
                        raise _wrong_shape(file)
                    while tap.read(_DRAIN_BYTES):
                        pass
                    if not tap.tail.rstrip().endswith(b"]"):
                        raise JsonStreamError(JsonProblem.TRUNCATED, "no end of list")
        except JsonStreamError as error:
            raise _refusal(file, error) from None
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise _damaged(file) from None

    def row_plays(self) -> Iterator[RowPlay]:
        """Every counted play of every file, in file order."""
        for plays in self._play_lists():
            yield from plays

    def batches(self, size: int) -> Iterator[list[HistoryPlay]]:
        """The counted plays, `size` at a time."""
        batch: list[HistoryPlay] = []
        for plays in self._play_lists():
            batch += plays
            while len(batch) >= size:
                yield batch[:size]
                batch = batch[size:]
        if batch:
            yield batch

    def _play_lists(self) -> Iterator[list[RowPlay]]:
        """The counted plays of every file, a decoded piece of a file at a time; `stats`
        counts each list before it is handed on."""
        stats = self.stats
        with ExitStack() as stack:
            files = open_history_files(self._paths, stack, self._limits)
            stats.files_total = len(files)
            stats.files_done = 0
            for file in files:
                for plays in self._file_plays(file):
                    if not plays:
                        continue
                    stats.plays += len(plays)
                    first = min(play[0] for play in plays)
                    last = max(play[0] for play in plays)
                    if stats.first_play is None or first < stats.first_play:
                        stats.first_play = first
                    if stats.last_play is None or last > stats.last_play:
                        stats.last_play = last
                    stats.artists.update(play[3] for play in plays)
                    yield plays
                stats.files_done += 1
        if not stats.plays and not stats.skipped:
            raise ImportRefused(
                ImportProblem.EMPTY, "The files hold no plays at all. " + UPLOAD_ADVICE
            )

    def _file_plays(self, file: HistoryFile) -> Iterator[list[RowPlay]]:
        skipped = self.stats.skipped
        try:
            with file.open() as raw:
                role_skip = _ROLE_SKIPS.get(file.role)
                if role_skip is not None:
                    for counted in iter_array_batches(raw, _COUNTS, _count, **self._chunking):
                        skipped[role_skip] += len(counted)
                    return
                parse: Parser | None = None
                for rows in iter_array_batches(raw, _ROWS, as_row, **self._chunking):
                    if parse is None:
                        parse = _PARSERS.get(detect_format(rows[0]))
                        if parse is None:
                            if not is_account_podcast(rows[0]):
                                raise _wrong_shape(file)
                            skipped[SkipReason.PODCAST] += len(rows)
                            parse = _podcast
                            continue
                    plays: list[RowPlay] = []
                    for row in rows:
                        parsed = parse(row)
                        if type(parsed) is RowPlay:
                            plays.append(parsed)
                        else:
                            skipped[parsed] += 1  # type: ignore[index]
                    yield plays
        except JsonStreamError as error:
            raise _refusal(file, error) from None
        except (zipfile.BadZipFile, zlib.error, EOFError):
            raise _damaged(file) from None

    @property
    def _chunking(self) -> dict[str, int]:
        return {"chunk_bytes": self._chunk_chars, "max_object_chars": self._max_object_chars}


def _count(_: dict[str, Any]) -> _Counted:
    return _COUNTED


def _podcast(_: HistoryRow) -> RowPlay | SkipReason:
    return SkipReason.PODCAST


_CHECK_CHUNK_CHARS = 1 << 16
_DRAIN_BYTES = 1 << 20
_TAIL_BYTES = 64


class _TailTap(io.RawIOBase):
    """A byte stream passed through, keeping its last bytes (to see how a file ends)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        if size:
            self.tail = (self.tail + data[-_TAIL_BYTES:])[-_TAIL_BYTES:]
        return size


def _damaged(file: HistoryFile) -> ImportRefused:
    return ImportRefused(
        ImportProblem.DAMAGED,
        f"{file.name} is damaged inside the ZIP. Download the ZIP again from Spotify.",
    )


def _text(raw: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _wrong_shape(file: HistoryFile) -> ImportRefused:
    return ImportRefused(
        ImportProblem.WRONG_SHAPE,
        f"{file.name} is JSON, but not a Spotify streaming history. " + UPLOAD_ADVICE,
    )


def _refusal(file: HistoryFile, error: JsonStreamError) -> ImportRefused:
    problem = error.problem
    if problem is JsonProblem.EMPTY:
        return ImportRefused(ImportProblem.EMPTY, f"{file.name} is empty. " + UPLOAD_ADVICE)
    if problem is JsonProblem.TRUNCATED:
        return ImportRefused(
            ImportProblem.TRUNCATED,
            f"{file.name} is cut short (the download or the upload did not finish). "
            "Download it again from Spotify and upload it whole.",
        )
    if problem is JsonProblem.INVALID:
        return ImportRefused(
            ImportProblem.DAMAGED,
            f"{file.name} is damaged (its JSON breaks off into something else). "
            "Download it again from Spotify.",
        )
    if problem is JsonProblem.NOT_JSON and not file.in_zip:
        return ImportRefused(
            ImportProblem.NOT_HISTORY,
            f"{file.name} is neither a ZIP nor a JSON file. " + UPLOAD_ADVICE,
        )
    return _wrong_shape(file)
