from __future__ import annotations

from bot.spotify.models import Artist, CursorPage, Page
from bot.spotify.paging import MAX_PAGES, iter_cursor, iter_offset
from tests.helpers import spotify_samples as samples


class EndlessOffsets:
    """A server that always has another full page."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    async def __call__(self, limit: int, offset: int) -> Page[Artist]:
        self.calls.append((limit, offset))
        items = [samples.artist(offset + n) for n in range(limit)]
        return Page[Artist].model_validate(
            samples.page(items, offset=offset, limit=limit, total=10**6, has_next=True)
        )


async def test_offset_iteration_stops_at_max_items() -> None:
    fetch = EndlessOffsets()

    names = [a.name async for a in iter_offset(fetch, max_items=120)]

    assert names == [f"Artist {n}" for n in range(120)]
    assert fetch.calls == [(50, 0), (50, 50), (20, 100)]


async def test_offset_iteration_has_a_hard_page_cap() -> None:
    fetch = EndlessOffsets()

    count = sum([1 async for _ in iter_offset(fetch, max_items=10**9, page_size=2)])

    assert len(fetch.calls) == MAX_PAGES
    assert count == 2 * MAX_PAGES


async def test_offset_iteration_stops_without_next_or_items() -> None:
    calls: list[int] = []

    async def empty_with_next(limit: int, offset: int) -> Page[Artist]:
        calls.append(offset)
        return Page[Artist].model_validate(samples.page([], total=99, has_next=True))

    async def last_page(limit: int, offset: int) -> Page[Artist]:
        calls.append(offset)
        return Page[Artist].model_validate(samples.page([samples.artist(1)], has_next=False))

    assert [a async for a in iter_offset(empty_with_next, max_items=500)] == []
    assert len([a async for a in iter_offset(last_page, max_items=500)]) == 1
    assert calls == [0, 0]
    assert [a async for a in iter_offset(last_page, max_items=0)] == []


async def test_cursor_iteration_follows_after_until_max_items() -> None:
    seen_after: list[str | None] = []

    async def fetch(limit: int, after: str | None) -> CursorPage[Artist]:
        seen_after.append(after)
        start = int(after or 0)
        items = [samples.artist(start + n) for n in range(limit)]
        return CursorPage[Artist].model_validate(
            samples.cursor_page(items, after=str(start + limit), limit=limit)
        )

    names = [a.name async for a in iter_cursor(fetch, max_items=70)]

    assert names == [f"Artist {n}" for n in range(70)]
    assert seen_after == [None, "50"]


async def test_cursor_iteration_stops_on_a_repeated_or_missing_cursor() -> None:
    calls = 0

    async def stuck(limit: int, after: str | None) -> CursorPage[Artist]:
        nonlocal calls
        calls += 1
        return CursorPage[Artist].model_validate(
            samples.cursor_page([samples.artist(calls)], after="same")
        )

    async def no_cursor(limit: int, after: str | None) -> CursorPage[Artist]:
        return CursorPage[Artist].model_validate(
            {**samples.cursor_page([samples.artist(1)], after=None), "next": "more"}
        )

    assert len([a async for a in iter_cursor(stuck, max_items=1000)]) == 2
    assert calls == 2
    assert len([a async for a in iter_cursor(no_cursor, max_items=1000)]) == 1
