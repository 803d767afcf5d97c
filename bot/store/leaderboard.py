"""Server leaderboards of top artists and tracks, read from the maintained guild scores.

Score of an item = sum over counted members of (51 - rank) / 50 (see bot/store/scores.py):
a member's #1 adds 1.0, their #50 adds 0.02. Ties are broken by listeners, then by name, then
by catalog id. A page is one range of an index; a page in the second half of the board is
read from the end (the index backwards), so the last page costs no more than the first and the
middle one is the dearest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, UnaryExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db.models import CatalogItem, GuildBoardSize, GuildItemScore, GuildScoreMember
from bot.domain import InvalidInput, ItemKind, TimeRange
from bot.services.items import ItemSummary
from bot.store.scores import SCORE_SCALE
from bot.store.snapshots import summary_of

BOARD_KINDS = (ItemKind.ARTIST, ItemKind.TRACK)
MAX_PAGE = 100


@dataclass(frozen=True)
class LeaderboardEntry:
    position: int
    item: ItemSummary
    score: float
    listeners: int


@dataclass(frozen=True)
class Leaderboard:
    kind: ItemKind
    time_range: TimeRange
    offset: int
    entries: list[LeaderboardEntry]
    total_items: int
    members: int
    oldest: datetime | None
    newest: datetime | None


def _ordered(
    columns: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    ascending: Sequence[bool],
    *,
    reverse: bool = False,
) -> list[UnaryExpression[Any]]:
    """The board's order (or its exact reverse: the order is total, item ids being unique)."""
    return [
        column.asc() if up != reverse else column.desc()
        for column, up in zip(columns, ascending, strict=True)
    ]


def check_page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"Pages start at 0 and hold 1 to {MAX_PAGE} entries.")


async def leaderboard(
    session: AsyncSession,
    guild_id: int,
    kind: ItemKind,
    time_range: TimeRange,
    offset: int = 0,
    limit: int = 10,
) -> Leaderboard:
    if kind not in BOARD_KINDS:
        raise InvalidInput("Leaderboards rank artists or tracks.")
    check_page(offset, limit)
    code = int(time_range)
    in_range = (
        GuildItemScore.guild_id == guild_id,
        GuildItemScore.kind == int(kind),
        GuildItemScore.time_range == code,
    )
    total_items = (
        await session.scalar(
            select(GuildBoardSize.item_count).where(
                GuildBoardSize.guild_id == guild_id,
                GuildBoardSize.kind == int(kind),
                GuildBoardSize.time_range == code,
            )
        )
        or 0
    )
    from_end = offset > total_items // 2
    if from_end:
        limit = max(min(limit, total_items - offset), 0)
        offset_in_order = max(total_items - offset - limit, 0)
    else:
        offset_in_order = offset
    columns = (
        GuildItemScore.points,
        GuildItemScore.listeners,
        GuildItemScore.sort_name,
        GuildItemScore.item_id,
    )
    ascending = (False, False, True, True)
    scored = (
        select(GuildItemScore)
        .where(*in_range)
        .order_by(*_ordered(columns, ascending, reverse=from_end))
        .limit(limit)
        .offset(offset_in_order)
        .subquery()
    )
    rows = await session.execute(
        select(CatalogItem, scored.c.points, scored.c.listeners)
        .join(scored, scored.c.item_id == CatalogItem.id)
        .order_by(
            *_ordered(
                (scored.c.points, scored.c.listeners, scored.c.sort_name, scored.c.item_id),
                ascending,
            )
        )
    )
    entries = [
        LeaderboardEntry(offset + position, summary_of(item), points / SCORE_SCALE, listeners)
        for position, (item, points, listeners) in enumerate(rows, start=1)
    ]
    members, oldest, newest = (
        await session.execute(
            select(
                func.count(),
                func.min(GuildScoreMember.fetched_at),
                func.max(GuildScoreMember.fetched_at),
            ).where(
                GuildScoreMember.guild_id == guild_id,
                GuildScoreMember.kind == int(kind),
                GuildScoreMember.time_range == code,
            )
        )
    ).one()
    return Leaderboard(kind, time_range, offset, entries, total_items, members, oldest, newest)
