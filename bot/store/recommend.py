"""Recommendations from the guild's own listening (Spotify's recommendation endpoints are
closed to new apps).

1. Similarity to every counted member of the guild is the compatibility measure of
   bot/store/compat.py (weighted Jaccard of rank weights per kind, averaged), computed in
   SQL from the member's own lists; the `neighbours` most similar members are kept.
2. Each of their artists and tracks the member has in none of their own lists (any range)
   scores Σ similarity × (51 - rank) / 50 over the neighbours who have it.
3. The reason names how many neighbours have it and the favourite most of those neighbours
   share with the member (ties: the member's higher-ranked one).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GuildScoreMember, TopItem
from bot.domain import DEFAULT_TIME_RANGE, ItemKind, TimeRange
from bot.services.items import ItemSummary
from bot.store.compat import (
    TASTE_KINDS,
    NoListeningData,
    Ranks,
    jaccard,
    similarity,
    stored_ranks,
    summaries,
)
from bot.store.scores import MAX_RANK, SCORE_SCALE, counted_in, weight

NEIGHBOURS = 10
RECOMMEND_LIMIT = 10


@dataclass(frozen=True)
class Recommendation:
    item: ItemSummary
    score: float
    members: int
    because_of: ItemSummary

    @property
    def reason(self) -> str:
        love = f"your love of {self.because_of.name}"
        if self.members == 1:
            return f"1 member who shares {love} plays this"
        return f"{self.members} members who share {love} play this"


def _totals(ranks: dict[ItemKind, Ranks]) -> dict[ItemKind, int]:
    return {kind: sum(weight(rank) for rank in items.values()) for kind, items in ranks.items()}


async def similar_members(
    session: AsyncSession,
    guild_id: int,
    discord_user_id: int,
    time_range: TimeRange,
    mine: dict[ItemKind, Ranks],
    neighbours: int,
) -> dict[int, float]:
    """The counted members most similar to the given member (similarity > 0), best first."""
    kinds = [int(kind) for kind in TASTE_KINDS]
    code = int(time_range)
    own = (
        select(TopItem.kind, TopItem.item_id, TopItem.rank.label("best"))
        .where(
            TopItem.discord_user_id == discord_user_id,
            TopItem.kind.in_(kinds),
            TopItem.time_range == code,
            TopItem.rank <= MAX_RANK,
        )
        .subquery()
    )
    top = literal(MAX_RANK + 1)
    common_points = func.sum(
        case((own.c.best > TopItem.rank, top - own.c.best), else_=top - TopItem.rank)
    )
    rows = await session.execute(
        select(TopItem.discord_user_id, TopItem.kind, common_points)
        .join(own, and_(own.c.kind == TopItem.kind, own.c.item_id == TopItem.item_id))
        .join(GuildScoreMember, counted_in(guild_id))
        .where(
            TopItem.time_range == code,
            TopItem.rank <= MAX_RANK,
            TopItem.discord_user_id != discord_user_id,
        )
        .group_by(TopItem.discord_user_id, TopItem.kind)
    )
    common: dict[int, dict[ItemKind, int]] = defaultdict(dict)
    for user, kind, points in rows:
        common[user][ItemKind(kind)] = points
    if not common:
        return {}
    totals = await session.execute(
        select(
            GuildScoreMember.discord_user_id, GuildScoreMember.kind, GuildScoreMember.points
        ).where(
            GuildScoreMember.guild_id == guild_id,
            GuildScoreMember.time_range == code,
            GuildScoreMember.kind.in_(kinds),
        )
    )
    theirs: dict[int, dict[ItemKind, int]] = defaultdict(dict)
    for user, kind, points in totals:
        if user in common:
            theirs[user][ItemKind(kind)] = points
    my_totals = _totals(mine)
    scored = {
        user: similarity(
            jaccard(shared.get(kind, 0), my_totals.get(kind, 0), theirs[user].get(kind, 0))
            for kind in TASTE_KINDS
        )
        for user, shared in common.items()
    }
    best = sorted(scored.items(), key=lambda pair: (-pair[1], pair[0]))[:neighbours]
    return {user: value for user, value in best if value > 0}


async def _own_items(session: AsyncSession, discord_user_id: int) -> set[int]:
    rows = await session.scalars(
        select(TopItem.item_id).where(TopItem.discord_user_id == discord_user_id).distinct()
    )
    return set(rows)


async def recommend(
    session: AsyncSession,
    guild_id: int,
    discord_user_id: int,
    time_range: TimeRange = DEFAULT_TIME_RANGE,
    limit: int = RECOMMEND_LIMIT,
    neighbours: int = NEIGHBOURS,
) -> list[Recommendation]:
    """Artists and tracks new to the member, best first; raises NoListeningData without lists."""
    mine = (await stored_ranks(session, [discord_user_id], time_range)).get(discord_user_id)
    if not mine:
        raise NoListeningData(discord_user_id)
    similar = await similar_members(
        session, guild_id, discord_user_id, time_range, mine, neighbours
    )
    if not similar:
        return []
    their_lists = await stored_ranks(session, similar.keys(), time_range)
    owned = await _own_items(session, discord_user_id)
    my_ranks = {item: rank for ranks in mine.values() for item, rank in ranks.items()}

    scores: dict[int, float] = defaultdict(float)
    players: dict[int, list[int]] = defaultdict(list)
    shared: dict[int, set[int]] = {}
    for user, likeness in similar.items():
        lists = their_lists.get(user, {})
        shared[user] = {item for ranks in lists.values() for item in ranks if item in my_ranks}
        for ranks in lists.values():
            for item, rank in ranks.items():
                if item not in owned:
                    scores[item] += likeness * weight(rank) / SCORE_SCALE
                    players[item].append(user)

    chosen = sorted(scores, key=lambda item: (-scores[item], -len(players[item]), item))[:limit]
    links = {item: _linking_favourite(players[item], shared, my_ranks) for item in chosen}
    items = await summaries(session, {*chosen, *links.values()})
    return [
        Recommendation(items[item], scores[item], len(players[item]), items[links[item]])
        for item in chosen
    ]


def _linking_favourite(
    players: list[int], shared: dict[int, set[int]], my_ranks: dict[int, int]
) -> int:
    """The member's favourite that most of these players share with them."""
    counts = Counter(item for user in players for item in shared[user])
    return min(counts, key=lambda item: (-counts[item], my_ranks[item], item))
