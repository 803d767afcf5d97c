"""Page sources for the paginator: lists of items, fetched a page at a time."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence

import discord

from bot.ui.items import ItemLine, list_page_embed

FetchLines = Callable[[int, int], Awaitable[Sequence[ItemLine]]]
"""`fetch(offset, limit)` returns the lines `offset`..`offset + limit - 1` (fewer at the end)."""

PER_PAGE = 10


class ItemPageSource:
    """A list of `total` items shown `per_page` at a time, each page fetched when first shown.

    The thumbnail of a page is the first art among its lines.
    """

    def __init__(
        self,
        title: str,
        *,
        total: int,
        fetch: FetchLines,
        per_page: int = PER_PAGE,
        numbered: bool = True,
        footer: str | None = None,
        note: str | None = None,
    ) -> None:
        if per_page < 1:
            raise ValueError("per_page must be at least 1")
        self.title = title
        self.total = max(0, total)
        self.per_page = per_page
        self.numbered = numbered
        self.footer = footer
        self.note = note
        self._fetch = fetch

    @classmethod
    def from_lines(
        cls,
        title: str,
        lines: Sequence[ItemLine],
        *,
        per_page: int = PER_PAGE,
        numbered: bool = True,
        footer: str | None = None,
        note: str | None = None,
    ) -> ItemPageSource:
        """Pages over lines that are already at hand."""

        async def fetch(offset: int, limit: int) -> Sequence[ItemLine]:
            return lines[offset : offset + limit]

        return cls(
            title,
            total=len(lines),
            fetch=fetch,
            per_page=per_page,
            numbered=numbered,
            footer=footer,
            note=note,
        )

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    async def page(self, index: int) -> discord.Embed:
        offset = index * self.per_page
        lines = await self._fetch(offset, self.per_page)
        return list_page_embed(
            self.title,
            lines,
            start_rank=offset + 1 if self.numbered else None,
            thumbnail_url=next((line.image_url for line in lines if line.image_url), None),
            footer=self.footer,
            note=self.note,
        )
