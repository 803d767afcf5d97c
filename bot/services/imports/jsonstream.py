"""An incremental reader of a JSON array of objects: one object at a time, never the whole text.

Spotify's history files are single JSON arrays, often hundreds of megabytes. The reader keeps a
sliding text buffer of about one chunk, and lets the C decoder (`json.JSONDecoder.raw_decode`)
read each object out of it; an object cut by the end of the buffer is decoded again once the
next chunk arrived. Objects larger than `max_object_chars` are refused, so a hostile file cannot
make the buffer grow without bound.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, TextIO, cast

DEFAULT_CHUNK_CHARS = 1 << 20
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

    def read() -> str:
        try:
            return stream.read(chunk_chars)
        except UnicodeDecodeError:
            raise JsonStreamError(JsonProblem.NOT_JSON, "the file is not text") from None

    decode = json.JSONDecoder().raw_decode
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
    pos += 1
    expect_value = True
    first = True
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
