"""The history files inside an upload: a Spotify ZIP, or loose JSON files.

ZIP safety: the entry count and the size of the central directory are read from the ZIP's end
record before `zipfile` parses the directory; only history entries are ever read, each through
`ZipFile.open` (nothing is extracted, no name from the ZIP becomes a path); their declared sizes
must stay within a total and a compression ratio, and only stored or deflated entries are read
(`zipfile` cuts every entry at its declared size and checks its CRC, so declared sizes bound
what is decompressed).
"""

from __future__ import annotations

import enum
import re
import struct
import zipfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.services.imports.errors import ImportProblem, ImportRefused, shown_name

_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_ZIP_EMPTY = b"PK\x05\x06"
_END_RECORD = struct.Struct("<4s4H2LH")
_END_RECORD_SEARCH = _END_RECORD.size + 0xFFFF
_DIRECTORY_BYTES_PER_ENTRY = 512
_READABLE = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})

UPLOAD_ADVICE = (
    "Upload the ZIP Spotify e-mailed you (my_spotify_data.zip), or the "
    "Streaming_History_Audio_*.json or StreamingHistory_music_*.json files in it."
)


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What a ZIP may hold before it is refused. Spotify's extended history is a few dozen
    entries of JSON that deflates about 10:1; a ZIP bomb packs far more, far tighter."""

    max_entries: int = 1_000
    max_total_bytes: int = 8 << 30  # uncompressed history entries together
    max_ratio: float = 100.0  # uncompressed / compressed, per history entry


class FileRole(enum.Enum):
    PLAYS = "plays"  # music history of either format (the content says which)
    PODCAST = "podcast"  # account data's podcast history: every row a podcast episode
    VIDEO = "video"  # extended history's video plays: every row a video


_ROLES = (
    (re.compile(r"streaming_history_audio_.*\.json", re.IGNORECASE), FileRole.PLAYS),
    (re.compile(r"endsong_\d+\.json", re.IGNORECASE), FileRole.PLAYS),  # exports before 2023
    (re.compile(r"streaminghistory_music_\d+\.json", re.IGNORECASE), FileRole.PLAYS),
    (re.compile(r"streaminghistory\d+\.json", re.IGNORECASE), FileRole.PLAYS),  # older account data
    (re.compile(r"streaminghistory_podcast_\d+\.json", re.IGNORECASE), FileRole.PODCAST),
    (re.compile(r"streaming_history_video_.*\.json", re.IGNORECASE), FileRole.VIDEO),
)


def role_of(name: str) -> FileRole | None:
    """The role of a history file by its name (its last part), or None when it is none."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    for pattern, role in _ROLES:
        if pattern.fullmatch(base):
            return role
    return None


@dataclass(frozen=True, slots=True)
class HistoryFile:
    """One history file to read: its name as shown to the member, its role, and how to open
    its bytes."""

    name: str
    role: FileRole
    in_zip: bool
    open: Callable[[], IO[bytes]]


def open_history_files(
    paths: Sequence[Path], stack: ExitStack, limits: ZipLimits
) -> list[HistoryFile]:
    """The history files of every upload, in order; ZIPs stay open on `stack`."""
    files: list[HistoryFile] = []
    for path in paths:
        with path.open("rb") as probe:
            magic = probe.read(4)
        if magic in (_ZIP_LOCAL_HEADER, _ZIP_EMPTY):
            files.extend(_zip_files(path, stack, limits))
        else:
            files.append(_loose_file(path))
    return files


def _loose_file(path: Path) -> HistoryFile:
    name = shown_name(path.name)
    role = role_of(path.name) or FileRole.PLAYS
    return HistoryFile(name, role, False, lambda: path.open("rb"))


def _zip_files(path: Path, stack: ExitStack, limits: ZipLimits) -> list[HistoryFile]:
    name = shown_name(path.name)
    _check_end_record(path, name, limits)
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise ImportRefused(
            ImportProblem.DAMAGED, f"{name} is a damaged ZIP. Download it again from Spotify."
        ) from None
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise _too_many(name, limits)
    found: list[HistoryFile] = []
    total = 0
    for info in entries:
        role = None if info.is_dir() else role_of(info.filename)
        if role is None:
            continue
        entry = shown_name(info.filename)
        if info.flag_bits & 0x1 or info.compress_type not in _READABLE:
            raise ImportRefused(
                ImportProblem.WRONG_SHAPE,
                f"{entry} in {name} is encrypted or packed in a way Spotify does not use. "
                + UPLOAD_ADVICE,
            )
        total += info.file_size
        if info.file_size > limits.max_ratio * max(info.compress_size, 1) + 1024:
            raise ImportRefused(
                ImportProblem.TOO_LARGE,
                f"{entry} in {name} unpacks to far more than a history file would "
                "(it looks like a ZIP bomb). " + UPLOAD_ADVICE,
            )
        if total > limits.max_total_bytes:
            raise ImportRefused(
                ImportProblem.TOO_LARGE,
                f"{name} unpacks to more than {limits.max_total_bytes >> 20:,} MB of history. "
                "Upload its history files in several parts.",
            )
        found.append(HistoryFile(entry, role, True, _entry_opener(archive, info)))
    if not any(file.role is FileRole.PLAYS for file in found):
        raise ImportRefused(
            ImportProblem.NO_HISTORY_FILES,
            f"{name} holds no Spotify listening history. " + UPLOAD_ADVICE,
        )
    return found


def _entry_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    return lambda: archive.open(info)


def _check_end_record(path: Path, name: str, limits: ZipLimits) -> None:
    """Refuse a ZIP cut short (no end record) or whose directory is past the limits, before
    `zipfile` reads the whole directory into memory."""
    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - _END_RECORD_SEARCH))
        tail = file.read()
    at = tail.rfind(_ZIP_EMPTY)
    if at < 0 or len(tail) - at < _END_RECORD.size:
        raise ImportRefused(
            ImportProblem.TRUNCATED,
            f"{name} is cut short (the download or the upload did not finish). "
            "Download it again from Spotify and upload it whole.",
        )
    record = _END_RECORD.unpack_from(tail, at)
    entries, directory_bytes = record[4], record[5]
    if (
        entries > limits.max_entries
        or directory_bytes > limits.max_entries * _DIRECTORY_BYTES_PER_ENTRY
    ):
        raise _too_many(name, limits)


def _too_many(name: str, limits: ZipLimits) -> ImportRefused:
    return ImportRefused(
        ImportProblem.TOO_LARGE,
        f"{name} holds more than {limits.max_entries:,} files; Spotify's ZIP holds a few dozen. "
        + UPLOAD_ADVICE,
    )
