"""Incremental readers of a JSON array of objects: never the whole text in memory.

Spotify's history files are single JSON arrays, often hundreds of megabytes. Two readers:

- `iter_array_objects`, the reference: a sliding text buffer of about one chunk, out of which
  the C decoder (`json.JSONDecoder.raw_decode`) reads one object at a time; an object cut by the
  end of the buffer is decoded again once the next chunk arrived. It tells exactly what is wrong
  with a file that is not a complete array of objects (`JsonProblem`).
- `iter_array_batches`, the fast one the import reads with: a sliding byte buffer, cut after its
  last `}`, each piece decoded as one array by msgspec straight into a given type (several times
  faster than building dicts). A cut inside a string or a nested object cannot decode as an
  array (its brackets or quotes do not close), so a piece that decodes is exactly whole
  objects. When a piece does not decode (a cut in the wrong place, or a damaged file), the rest
  of the file goes to the reference reader, which then reads it or says what is wrong with it.

Objects larger than `max_object_chars` are refused, so a hostile file cannot make the buffer
grow without bound.
"""

from __future__ import annotations

import enum
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any, TextIO, TypeVar, cast

import msgspec

DEFAULT_CHUNK_CHARS = 1 << 18
DEFAULT_CHUNK_BYTES = 1 << 18
"""A piece is decoded in one call that holds the GIL throughout: a quarter MiB (some 300 rows)
keeps that short for the event loop, and costs no more per row than larger pieces."""
DEFAULT_MAX_OBJECT_CHARS = 1 << 20
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NEAR_END = 16
"""A decode error this close to the end of the buffer may be a literal or number cut short
(`tru`, `12` + `34`): read more before judging."""


class JsonProblem(enum.Enum):
    EMPTY = "empty"
    NOT_JSON = "not_json"  # not JSON from the first character
    INVALID = "invalid"  # began as a JSON list, then broke
    NOT_ARRAY = "not_array"
    NOT_OBJECT = "not_object"
    TRUNCATED = "truncated"
    TOO_LARGE = "too_large"


class JsonStreamError(ValueError):
    """The text is not a complete JSON array of objects; `problem` says how."""

    def __init__(self, problem: JsonProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


def iter_array_objects(
    stream: TextIO,
    *,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
    max_object_chars: int = DEFAULT_MAX_OBJECT_CHARS,
) -> Iterator[dict[str, Any]]:
    """The objects of the JSON array `stream` holds, in order; raises `JsonStreamError`."""
    read = _text_reader(stream, chunk_chars)
    skip = cast(Callable[[str, int], re.Match[str]], _WHITESPACE.match)  # always matches
    buffer = ""
    pos = 0
    at_end = False
    while not at_end:
        chunk = read()
        at_end = not chunk
        buffer = buffer[pos:] + chunk
        pos = skip(buffer, 0).end()
        if pos < len(buffer):
            break
    if pos >= len(buffer):
        raise JsonStreamError(JsonProblem.EMPTY, "the file is empty")
    if buffer[pos] != "[":
        if buffer[pos] in _OTHER_JSON_STARTS:
            raise JsonStreamError(JsonProblem.NOT_ARRAY, "the JSON is not a list of plays")
        raise JsonStreamError(JsonProblem.NOT_JSON, "the file is not JSON")
    yield from _array_rest(read, buffer, pos + 1, at_end, False, max_object_chars)


def _text_reader(stream: TextIO, chunk_chars: int) -> Callable[[], str]:
    def read() -> str:
        try:
            return stream.read(chunk_chars)
        except UnicodeDecodeError:
            raise JsonStreamError(JsonProblem.NOT_JSON, "the file is not text") from None

    return read


def _array_rest(
    read: Callable[[], str],
    buffer: str,
    pos: int,
    at_end: bool,
    after_object: bool,
    max_object_chars: int,
) -> Iterator[dict[str, Any]]:
    """The objects of an array from `buffer[pos:]` on (then `read()`), which starts right
    after the `[` or, with `after_object`, right after an object of the array."""
    decode = json.JSONDecoder().raw_decode
    skip = cast(Callable[[str, int], re.Match[str]], _WHITESPACE.match)  # always matches
    expect_value = first = not after_object
    while True:
        pos = skip(buffer, pos).end()
        if len(buffer) - pos < _NEAR_END and not at_end:
            chunk = read()
            at_end = not chunk
            buffer = buffer[pos:] + chunk
            pos = 0
            continue
        if pos >= len(buffer):
            raise JsonStreamError(JsonProblem.TRUNCATED, _TRUNCATED)
        char = buffer[pos]
        if expect_value and char == "{":
            try:
                value, end = decode(buffer, pos)
            except json.JSONDecodeError as error:
                if at_end:
                    problem = (
                        JsonProblem.INVALID
                        if buffer.rstrip().endswith("]")
                        else JsonProblem.TRUNCATED
                    )
                    raise JsonStreamError(problem, _DETAILS[problem]) from None
                cut_short = error.pos >= len(buffer) - _NEAR_END or error.msg.startswith(
                    "Unterminated string"
                )
                if not cut_short:
                    raise JsonStreamError(JsonProblem.INVALID, _NOT_VALID) from None
                if len(buffer) - pos > max_object_chars:
                    raise JsonStreamError(
                        JsonProblem.TOO_LARGE, "an entry of the list is far too large"
                    ) from None
                chunk = read()
                at_end = not chunk
                buffer = buffer[pos:] + chunk
                pos = 0
                continue
            yield value
            pos = end
            first = False
            expect_value = False
        elif char == "]" and (first or not expect_value):
            if buffer[pos + 1 :].strip() or _more_text(read):
                raise JsonStreamError(JsonProblem.INVALID, "there is text after the list")
            return
        elif expect_value and char == "]":
            raise JsonStreamError(JsonProblem.INVALID, _NOT_VALID)
        elif expect_value:
            raise JsonStreamError(JsonProblem.NOT_OBJECT, "the list holds something else")
        elif char == ",":
            pos += 1
            expect_value = True
        else:
            raise JsonStreamError(JsonProblem.INVALID, _NOT_VALID)


T = TypeVar("T")
_BOM = b"\xef\xbb\xbf"
_JSON_SPACE = b" \t\n\r"
_RETRIES = 3
"""Earlier `}` tried as the cut when a piece does not decode, before the reference reader
takes over (a `}` inside a string of the object cut off by the buffer's end)."""
_FALLBACK_BATCH = 1_000


def iter_array_batches(
    raw: IO[bytes],
    decoder: msgspec.json.Decoder[list[T]],
    convert: Callable[[dict[str, Any]], T],
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    max_object_chars: int = DEFAULT_MAX_OBJECT_CHARS,
) -> Iterator[list[T]]:
    """The objects of the JSON array in the UTF-8 bytes `raw` holds, in order and in lists
    (about a chunk's worth each), decoded by `decoder`; objects the reference reader reads
    are made into `T` by `convert`. Raises `JsonStreamError` as `iter_array_objects` does."""
    buffer = b""
    at_end = False
    start = b""
    while not at_end and not start:  # read on past leading whitespace
        chunk = raw.read(chunk_bytes)
        at_end = not chunk
        buffer += chunk
        start = buffer.removeprefix(_BOM).lstrip(_JSON_SPACE)
    if not start.startswith(b"["):  # empty, or not an array: the reference says what it is
        yield from _reference_batches(buffer, raw, None, convert, chunk_bytes, max_object_chars)
        return
    pos = len(buffer) - len(start) + 1
    after_object = False
    while True:
        rows, end, judge = _decode_piece(decoder, buffer, pos, after_object)
        if rows is not None:
            yield rows
            pos = end
            after_object = True
            continue
        if judge or at_end or len(buffer) - pos > max_object_chars + chunk_bytes:
            rest = buffer[pos:]
            yield from _reference_batches(
                rest, raw, after_object, convert, chunk_bytes, max_object_chars
            )
            return
        chunk = raw.read(chunk_bytes)
        at_end = not chunk
        buffer = buffer[pos:] + chunk
        pos = 0


def _decode_piece(
    decoder: msgspec.json.Decoder[list[T]], buffer: bytes, pos: int, after_object: bool
) -> tuple[list[T] | None, int, bool]:
    """The whole objects in `buffer[pos:]` up to its last `}` that decodes as their end, and
    the position after it; or None, and whether the text there is for the reference reader
    to judge now (it cannot go on as an array of objects) rather than after more is read."""
    cut = buffer.rfind(b"}", pos)
    if cut < 0:
        return None, pos, False
    for _ in range(_RETRIES):
        body = buffer[pos : cut + 1].lstrip(_JSON_SPACE)
        if after_object:
            if not body.startswith(b","):
                return None, pos, True
            body = body[1:]
        try:
            return decoder.decode(b"[" + body + b"]"), cut + 1, False
        except (msgspec.DecodeError, msgspec.ValidationError):
            cut = buffer.rfind(b"}", pos, cut)
            if cut < 0:
                break
    return None, pos, False


def _reference_batches(
    head: bytes,
    raw: IO[bytes],
    after_object: bool | None,
    convert: Callable[[dict[str, Any]], T],
    chunk_bytes: int,
    max_object_chars: int,
) -> Iterator[list[T]]:
    """The rest of the array, `head` then `raw`, through the reference reader: from the file's
    start when `after_object` is None, else from inside the array."""
    text = io.TextIOWrapper(cast(IO[bytes], _Joined(head, raw)), encoding="utf-8-sig", newline="")
    if after_object is None:
        objects = iter_array_objects(
            text, chunk_chars=chunk_bytes, max_object_chars=max_object_chars
        )
    else:
        objects = _array_rest(
            _text_reader(text, chunk_bytes), "", 0, False, after_object, max_object_chars
        )
    batch: list[T] = []
    for obj in objects:
        batch.append(convert(obj))
        if len(batch) >= _FALLBACK_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class _Joined(io.RawIOBase):
    """Bytes already read, then the rest of a stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_OTHER_JSON_STARTS = frozenset('{"-0123456789tfn')
_TRUNCATED = "the file ends before its list does (it looks cut short)"
_NOT_VALID = "the file is not valid JSON"
_DETAILS = {JsonProblem.TRUNCATED: _TRUNCATED, JsonProblem.INVALID: _NOT_VALID}


def _more_text(read: Callable[[], str]) -> bool:
    """Whether any non-blank text is left (read in chunks, only to see whether there is)."""
    while chunk := read():
        if chunk.strip():
            return True
    return False
