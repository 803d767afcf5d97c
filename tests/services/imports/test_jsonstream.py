import io
import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.imports.jsonstream import (
    JsonProblem,
    JsonStreamError,
    iter_array_batches,
    iter_array_objects,
)

ROWS = [
    {"ts": "2020-01-01T00:00:00Z", "n": index, "text": 'ü€😀 "q" \\ \u2028', "t": True, "f": False}
    | {"none": None, "number": -1.5e3, "nested": {"a": [1, 2, {"b": "}]"}]}}
    for index in range(40)
]


_OBJECTS = msgspec.json.Decoder(list[dict[str, Any]])


def _reference(text: str, chunk_chars: int) -> list[dict[str, Any]]:
    return list(iter_array_objects(io.StringIO(text), chunk_chars=chunk_chars))


def _fast(text: str, chunk_bytes: int) -> list[dict[str, Any]]:
    batches = iter_array_batches(
        io.BytesIO(text.encode()), _OBJECTS, lambda obj: obj, chunk_bytes=chunk_bytes
    )
    return [obj for batch in batches for obj in batch]


Reader = Callable[[str, int], list[dict[str, Any]]]
READERS = pytest.mark.parametrize("reader", [_reference, _fast], ids=["reference", "fast"])


def _read(text: str, chunk_chars: int = 7, reader: Reader = _reference) -> list[dict[str, Any]]:
    return reader(text, chunk_chars)


@READERS
@pytest.mark.parametrize("indent", [None, 0, 2, 4])
@pytest.mark.parametrize("chunk_chars", [1, 2, 3, 5, 16, 17, 4096])
def test_every_object_comes_back_whatever_the_chunk_size(
    indent: int | None, chunk_chars: int, reader: Reader
) -> None:
    text = json.dumps(ROWS, indent=indent, ensure_ascii=indent == 2)
    assert _read(text, chunk_chars, reader) == ROWS


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.dictionaries(
            st.text(max_size=5),
            st.one_of(
                st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()
            ),
            max_size=4,
        ),
        max_size=6,
    ),
    chunk_chars=st.integers(1, 40),
    spacing=st.sampled_from([None, 1, "\t", " \r\n "]),
)
def test_any_array_of_objects_at_any_chunk_size(
    rows: list[dict[str, object]], chunk_chars: int, spacing: int | str | None
) -> None:
    text = json.dumps(rows, indent=spacing, ensure_ascii=False)
    assert _read(text, chunk_chars) == rows
    assert _read(text, chunk_chars, _fast) == rows


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", JsonProblem.EMPTY),
        (" \n ", JsonProblem.EMPTY),
        ("hello", JsonProblem.NOT_JSON),
        ("%PDF-1.4", JsonProblem.NOT_JSON),
        ('{"ts": 1}', JsonProblem.NOT_ARRAY),
        ("[1, 2]", JsonProblem.NOT_OBJECT),
        ('[{"a": 1}, "b"]', JsonProblem.NOT_OBJECT),
        ('[{"a": 1}', JsonProblem.TRUNCATED),
        ('[{"a": 1}, {"b": "cut sho', JsonProblem.TRUNCATED),
        ('[{"a": 1},', JsonProblem.TRUNCATED),
        ('[{"a": 1},]', JsonProblem.INVALID),
        ('[{"a": 1} {"b": 2}]', JsonProblem.INVALID),
        ('[{"a": tru}]', JsonProblem.INVALID),
        ('[{"a": 1}] trailing', JsonProblem.INVALID),
    ],
)
@READERS
def test_what_is_not_a_complete_array_of_objects_is_refused(
    text: str, problem: JsonProblem, reader: Reader
) -> None:
    with pytest.raises(JsonStreamError) as refused:
        _read(text, 3, reader)
    assert refused.value.problem is problem


@READERS
def test_an_empty_array_holds_nothing(reader: Reader) -> None:
    assert _read(" [ ] \n", 7, reader) == []


def test_the_fast_reader_skips_a_byte_order_mark() -> None:
    assert _read('\ufeff[{"a": 1}]', 7, _fast) == [{"a": 1}]


def test_the_fast_reader_hands_what_msgspec_refuses_to_the_reference() -> None:
    text = '[{"a": 1}, {"b": NaN}, {"c": 3}]'  # NaN: Python's json reads it, msgspec does not
    assert json.dumps(_read(text, 4096, _fast)) == json.dumps(_read(text, 4096))


def test_the_fast_reader_reads_invalid_utf8_as_not_text() -> None:
    batches = iter_array_batches(io.BytesIO(b'[{"a": "\xff"}]'), _OBJECTS, lambda obj: obj)
    with pytest.raises(JsonStreamError) as refused:
        list(batches)
    assert refused.value.problem is JsonProblem.NOT_JSON


def test_an_object_larger_than_the_limit_is_refused() -> None:
    text = json.dumps([{"big": "x" * 5000}])
    with pytest.raises(JsonStreamError) as refused:
        list(iter_array_objects(io.StringIO(text), chunk_chars=100, max_object_chars=1000))
    assert refused.value.problem is JsonProblem.TOO_LARGE
    text = json.dumps([{"big": "x}" * 5000}])  # no piece ends in a whole object
    batches = iter_array_batches(
        io.BytesIO(text.encode()), _OBJECTS, dict, chunk_bytes=100, max_object_chars=1000
    )
    with pytest.raises(JsonStreamError) as refused:
        list(batches)
    assert refused.value.problem is JsonProblem.TOO_LARGE


def test_the_buffer_stays_near_one_chunk() -> None:
    """Streaming: never more than about a chunk (plus one object) read ahead."""

    class Counting(io.StringIO):
        def __init__(self, text: str) -> None:
            super().__init__(text)
            self.chars_read = 0

        def read(self, size: int | None = -1) -> str:
            chunk = super().read(size)
            self.chars_read += len(chunk)
            return chunk

    rows = [{"n": index, "pad": "y" * 50} for index in range(2000)]
    text = json.dumps(rows)
    stream = Counting(text)
    objects = iter_array_objects(stream, chunk_chars=256)
    for _ in range(10):
        next(objects)
    assert stream.chars_read < 1024 < len(text)


def test_the_fast_reader_keeps_about_two_chunks_in_memory() -> None:
    class Counting(io.BytesIO):
        bytes_read = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            self.bytes_read += len(chunk)
            return chunk

    rows = [{"n": index, "pad": "y" * 50} for index in range(2000)]
    stream = Counting(json.dumps(rows).encode())
    batches = iter_array_batches(stream, _OBJECTS, dict, chunk_bytes=256)
    assert len(next(batches)) >= 1
    assert stream.bytes_read <= 512
