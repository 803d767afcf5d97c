"""Bounded iteration over offset pages and cursor pages.

Every loop stops at `max_items`, at an empty page, at a missing `next`, and in any case after
`MAX_PAGES` requests, so a server that keeps sending `next` cannot keep us looping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel

from bot.spotify.models import CursorPage, Page

T = TypeVar("T", bound=BaseModel)

MAX_PAGES = 200
PAGE_SIZE = 50


async def iter_offset(
    fetch: Callable[[int, int], Awaitable[Page[T]]],
    *,
    max_items: int,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[T]:
    """Yield up to `max_items` items from `fetch(limit, offset)`."""
    yielded = 0
    offset = 0
    for _ in range(MAX_PAGES):
        if yielded >= max_items:
            return
        limit = min(page_size, max_items - yielded)
        page = await fetch(limit, offset)
        for item in page.items[: max_items - yielded]:
            yield item
            yielded += 1
        if not page.items or page.next is None:
            return
        offset += page.limit or limit


async def iter_cursor(
    fetch: Callable[[int, str | None], Awaitable[CursorPage[T]]],
    *,
    max_items: int,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[T]:
    """Yield up to `max_items` items from `fetch(limit, after)`, stopping on a repeated cursor."""
    yielded = 0
    after: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        if yielded >= max_items:
            return
        page = await fetch(min(page_size, max_items - yielded), after)
        for item in page.items[: max_items - yielded]:
            yield item
            yielded += 1
        after = page.cursors.after
        if not page.items or page.next is None or after is None or after in seen:
            return
        seen.add(after)
