"""Server leaderboards of top artists and tracks, read from the maintained guild scores.

Score of an item = sum over counted members of (51 - rank) / 50 (see bot/services/scores.py):
a member's #1 adds 1.0, their #50 adds 0.02. Ties are broken by listeners, then by name, then
by catalog id. A page is one range of an index, so deep pages cost no more than the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CatalogItem, GuildItemScore, GuildScoreMember, ItemKind
from bot.services.errors import InvalidInput
from bot.services.items import ItemSummary
from bot.services.scores import SCORE_SCALE, range_code
from bot.services.snapshots import summary_of

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
    time_range: str
    offset: int
    entries: list[LeaderboardEntry]
    total_items: int
    members: int
    oldest: datetime | None
    newest: datetime | None


def check_page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"Pages start at 0 and hold 1 to {MAX_PAGE} entries.")


async def leaderboard(
    session: AsyncSession,
    guild_id: int,
    kind: ItemKind,
    time_range: str,
    offset: int = 0,
    limit: int = 10,
) -> Leaderboard:
    if kind not in BOARD_KINDS:
        raise InvalidInput("Leaderboards rank artists or tracks.")
    check_page(offset, limit)
    code = int(range_code(time_range))
    in_range = (
        GuildItemScore.guild_id == guild_id,
        GuildItemScore.kind == int(kind),
        GuildItemScore.time_range == code,
    )
    order = (
        GuildItemScore.points.desc(),
        GuildItemScore.listeners.desc(),
        GuildItemScore.sort_name,
        GuildItemScore.item_id,
    )
    scored = (
        select(GuildItemScore)
        .where(*in_range)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    rows = await session.execute(
        select(CatalogItem, scored.c.points, scored.c.listeners)
        .join(scored, scored.c.item_id == CatalogItem.id)
        .order_by(
            scored.c.points.desc(),
            scored.c.listeners.desc(),
            scored.c.sort_name,
            scored.c.item_id,
        )
    )
    entries = [
        LeaderboardEntry(offset + position, summary_of(item), points / SCORE_SCALE, listeners)
        for position, (item, points, listeners) in enumerate(rows, start=1)
    ]
    total_items = await session.scalar(select(func.count()).where(*in_range)) or 0
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
