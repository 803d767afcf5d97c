"""Receiving an /import upload: the multipart body is streamed, chunk by chunk, into files in
the job's own folder, never held in memory.

Each uploaded file goes to `<folder>/<n>/<its name, cleaned>`: the member's own file name is
kept (the importer tells history files apart by name) but never used as a path.
"""

from __future__ import annotations

import asyncio
import enum
import hmac
import re
from pathlib import Path
from typing import BinaryIO

from aiohttp import BodyPartReader, web

FILE_FIELD = "files"
CSRF_FIELD = "csrf"
CHUNK_BYTES = 256 * 1024
MAX_FIELD_BYTES = 1024
MAX_NAME_LENGTH = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._() -]+")


class UploadProblem(enum.Enum):
    TOO_LARGE = "too_large"
    NO_FILES = "no_files"
    FORBIDDEN = "forbidden"  # the form's CSRF token is missing or wrong
    MALFORMED = "malformed"  # not a multipart form as the page sends it


class UploadRefused(Exception):
    def __init__(self, problem: UploadProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def safe_name(filename: str) -> str:
    """The last part of an uploaded file's name, with nothing a path could use."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[:MAX_NAME_LENGTH]
    return cleaned or "upload"


async def receive_upload(
    request: web.Request, folder: Path, *, max_bytes: int, csrf: str | None
) -> list[Path]:
    """Write the form's files into `folder` and return their paths, in form order.

    The CSRF field must come before the files and match `csrf` (the page's cookie); past
    `max_bytes` of file data the upload is refused. Raises UploadRefused.
    """
    if request.content_type != "multipart/form-data":
        raise UploadRefused(UploadProblem.MALFORMED)
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError):
        raise UploadRefused(UploadProblem.MALFORMED) from None
    csrf_ok = False
    paths: list[Path] = []
    budget = _Budget(max_bytes)
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise UploadRefused(UploadProblem.MALFORMED)
            if part.name == CSRF_FIELD:
                sent = await _small_field(part)
                csrf_ok = csrf is not None and hmac.compare_digest(sent, csrf.encode())
            elif part.name == FILE_FIELD:
                if not csrf_ok:
                    raise UploadRefused(UploadProblem.FORBIDDEN)
                if not part.filename:
                    await _drain(part, budget)
                    continue
                target = folder / str(len(paths)) / safe_name(part.filename)
                target.parent.mkdir()
                await _save(part, target, budget)
                paths.append(target)
            else:
                await _drain(part, budget)
    except (ValueError, AssertionError):
        raise UploadRefused(UploadProblem.MALFORMED) from None
    if not csrf_ok:
        raise UploadRefused(UploadProblem.FORBIDDEN)
    if not paths:
        raise UploadRefused(UploadProblem.NO_FILES)
    return paths


class _Budget:
    def __init__(self, max_bytes: int) -> None:
        self.left = max_bytes

    def spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise UploadRefused(UploadProblem.TOO_LARGE)


async def _small_field(part: BodyPartReader) -> bytes:
    value = b""
    while chunk := await part.read_chunk(MAX_FIELD_BYTES):
        value += chunk
        if len(value) > MAX_FIELD_BYTES:
            raise UploadRefused(UploadProblem.MALFORMED)
    return value


async def _drain(part: BodyPartReader, budget: _Budget) -> None:
    while chunk := await part.read_chunk(CHUNK_BYTES):
        budget.spend(len(chunk))


async def _save(part: BodyPartReader, target: Path, budget: _Budget) -> None:
    """Disk writes go to a thread: a busy disk must not stall the event loop."""
    with target.open("wb") as out:
        while chunk := await part.read_chunk(CHUNK_BYTES):
            budget.spend(len(chunk))
            await asyncio.to_thread(_write, out, chunk)


def _write(out: BinaryIO, chunk: bytes) -> None:
    out.write(chunk)
