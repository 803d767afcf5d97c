"""Taste compatibility of two members, from their stored top artists and tracks.

Each list is a vector of rank weights, w(item) = 51 - rank (the leaderboard's points).
Per kind, the overlap is the weighted Jaccard index  Σ min(wa, wb) / Σ max(wa, wb): 1 for
identical lists, 0 for disjoint ones, and a shared #1 weighs fifty times a shared #50.
The score is the mean over the kinds at least one of the two has a list of (artists and
tracks weigh the same), as a percentage. Symmetric by construction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CatalogItem, TopItem
from bot.domain import ItemKind, ServiceError, TimeRange
from bot.services.items import ItemSummary
from bot.store.scores import MAX_RANK, weight
from bot.store.snapshots import summary_of

TASTE_KINDS = (ItemKind.ARTIST, ItemKind.TRACK)
SHARED_LIMIT = 10

Ranks = dict[int, int]
"""item_id -> rank in one list."""


class NoListeningData(ServiceError):
    """A member has no stored top artists or tracks for the range yet (fetch them first)."""

    def __init__(self, discord_user_id: int) -> None:
        super().__init__(f"no stored top lists for member {discord_user_id}")
        self.discord_user_id = discord_user_id


@dataclass(frozen=True)
class SharedFavourite:
    item: ItemSummary
    rank_a: int
    rank_b: int


@dataclass(frozen=True)
class Compat:
    score: int
    artists: float | None
    tracks: float | None
    shared: list[SharedFavourite]
    shared_total: int


def jaccard(common: int, total_a: int, total_b: int) -> float | None:
    """Weighted Jaccard from Σ min and the two lists' totals; None when both are empty."""
    union = total_a + total_b - common
    return common / union if union else None


def overlap(a: Ranks, b: Ranks) -> float | None:
    common = sum(min(weight(a[item]), weight(b[item])) for item in a.keys() & b.keys())
    return jaccard(common, _total(a), _total(b))


def similarity(parts: Iterable[float | None]) -> float:
    present = [part for part in parts if part is not None]
    return sum(present) / len(present) if present else 0.0


def percent(value: float) -> int:
    """0..1 as a whole percentage; only identical tastes show 100 and only disjoint ones 0."""
    shown = round(value * 100)
    if 0 < value < 1:
        return min(max(shown, 1), 99)
    return shown


def _total(ranks: Ranks) -> int:
    return sum(weight(rank) for rank in ranks.values())


async def stored_ranks(
    session: AsyncSession, discord_user_ids: Collection[int], time_range: TimeRange
) -> dict[int, dict[ItemKind, Ranks]]:
    """Ranks in each member's artist and track lists (missing or empty lists are absent)."""
    rows = await session.execute(
        select(TopItem.discord_user_id, TopItem.kind, TopItem.item_id, TopItem.rank).where(
            TopItem.discord_user_id.in_(discord_user_ids),
            TopItem.kind.in_([int(kind) for kind in TASTE_KINDS]),
            TopItem.time_range == int(time_range),
            TopItem.rank <= MAX_RANK,
        )
    )
    lists: dict[int, dict[ItemKind, Ranks]] = {}
    for user, kind, item_id, rank in rows:
        lists.setdefault(user, {}).setdefault(ItemKind(kind), {})[item_id] = rank
    return lists


async def summaries(session: AsyncSession, item_ids: Collection[int]) -> dict[int, ItemSummary]:
    if not item_ids:
        return {}
    rows = await session.scalars(select(CatalogItem).where(CatalogItem.id.in_(item_ids)))
    return {row.id: summary_of(row) for row in rows}


async def compat(
    session: AsyncSession,
    user_a: int,
    user_b: int,
    time_range: TimeRange,
    shared_limit: int = SHARED_LIMIT,
) -> Compat:
    """How alike two members' tastes are; raises NoListeningData for a member without lists."""
    lists = await stored_ranks(session, {user_a, user_b}, time_range)
    for user in (user_a, user_b):
        if user not in lists:
            raise NoListeningData(user)
    a, b = lists[user_a], lists[user_b]
    parts = {kind: overlap(a.get(kind, {}), b.get(kind, {})) for kind in TASTE_KINDS}
    shared = sorted(
        (
            (a[kind][item] + b[kind][item], min(a[kind][item], b[kind][item]), kind, item)
            for kind in TASTE_KINDS
            for item in a.get(kind, {}).keys() & b.get(kind, {}).keys()
        ),
    )
    shown = shared[:shared_limit]
    items = await summaries(session, [item for *_, item in shown])
    favourites = [
        SharedFavourite(items[item], a[kind][item], b[kind][item]) for *_, kind, item in shown
    ]
    return Compat(
        score=percent(similarity(parts.values())),
        artists=parts[ItemKind.ARTIST],
        tracks=parts[ItemKind.TRACK],
        shared=favourites,
        shared_total=len(shared),
    )
