import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.imports.jsonstream import JsonProblem, JsonStreamError, iter_array_objects

ROWS = [
    {"ts": "2020-01-01T00:00:00Z", "n": index, "text": 'ü€😀 "q" \\ \u2028', "t": True, "f": False}
    | {"none": None, "number": -1.5e3, "nested": {"a": [1, 2, {"b": "}]"}]}}
    for index in range(40)
]


def _read(text: str, chunk_chars: int = 7) -> list[dict[str, object]]:
    return list(iter_array_objects(io.StringIO(text), chunk_chars=chunk_chars))


@pytest.mark.parametrize("indent", [None, 0, 2, 4])
@pytest.mark.parametrize("chunk_chars", [1, 2, 3, 5, 16, 17, 4096])
def test_every_object_comes_back_whatever_the_chunk_size(
    indent: int | None, chunk_chars: int
) -> None:
    text = json.dumps(ROWS, indent=indent, ensure_ascii=indent == 2)
    assert _read(text, chunk_chars) == ROWS


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
def test_what_is_not_a_complete_array_of_objects_is_refused(
    text: str, problem: JsonProblem
) -> None:
    with pytest.raises(JsonStreamError) as refused:
        _read(text, chunk_chars=3)
    assert refused.value.problem is problem


def test_an_empty_array_holds_nothing() -> None:
    assert _read(" [ ] \n") == []


def test_an_object_larger_than_the_limit_is_refused() -> None:
    text = json.dumps([{"big": "x" * 5000}])
    with pytest.raises(JsonStreamError) as refused:
        list(iter_array_objects(io.StringIO(text), chunk_chars=100, max_object_chars=1000))
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
