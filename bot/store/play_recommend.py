"""Recommendations from the guild's plays, for members who have plays of their own.

1. Neighbours: counted members of the guild who played one of the member's 50 most played
   artists in the period (at most `CANDIDATES` of them); similarity is the mean over artists
   and tracks of the cosine of log-weighted play counts (bot/store/play_rankings.py), and the
   `neighbours` most similar with similarity > 0 are kept.
2. Each artist and track of their period profiles that the member never played (all time)
   scores Σ similarity × log(1 + their plays) over the neighbours who played it. Items known
   only by name are left out: a pick needs a Spotify link.
3. The reason names how many neighbours played it and the member's artist most of those
   neighbours also played (ties: the member's most played).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GuildMember, PlayTotal
from bot.domain import ItemKind, Period
from bot.store.compat import summaries
from bot.store.play_rankings import COMPAT_KINDS, cosine, counted, profile
from bot.store.recommend import NEIGHBOURS, RECOMMEND_LIMIT, Recommendation

CANDIDATES = 50
SEED_ARTISTS = 50


async def recommend_by_plays(
    session: AsyncSession,
    guild_id: int,
    discord_user_id: int,
    period: Period = Period.MONTH,
    limit: int = RECOMMEND_LIMIT,
    neighbours: int = NEIGHBOURS,
) -> list[Recommendation]:
    """Artists and tracks new to the member, best first; empty without plays to go on."""
    mine = {kind: await profile(session, discord_user_id, kind, period) for kind in COMPAT_KINDS}
    seeds = list(mine[ItemKind.ARTIST])[:SEED_ARTISTS]  # most played first
    if not seeds:
        return []
    candidates = list(
        await session.scalars(
            select(PlayTotal.discord_user_id)
            .join(GuildMember, counted(guild_id, PlayTotal.discord_user_id))
            .where(
                PlayTotal.kind == int(ItemKind.ARTIST),
                PlayTotal.item_id.in_(seeds),
                PlayTotal.discord_user_id != discord_user_id,
            )
            .distinct()
            .order_by(PlayTotal.discord_user_id)
            .limit(CANDIDATES)
        )
    )
    theirs: dict[int, dict[ItemKind, dict[int, int]]] = {}
    likeness: dict[int, float] = {}
    for user in candidates:
        theirs[user] = {kind: await profile(session, user, kind, period) for kind in COMPAT_KINDS}
        parts = [
            cosine(mine[kind], theirs[user][kind])
            for kind in COMPAT_KINDS
            if mine[kind] or theirs[user][kind]
        ]
        likeness[user] = sum(parts) / len(parts) if parts else 0.0
    similar = sorted(
        (user for user in likeness if likeness[user] > 0),
        key=lambda user: (-likeness[user], user),
    )[:neighbours]
    if not similar:
        return []
    owned = set(
        await session.scalars(
            select(PlayTotal.item_id).where(
                PlayTotal.discord_user_id == discord_user_id,
                PlayTotal.kind.in_([int(kind) for kind in COMPAT_KINDS]),
            )
        )
    )
    scores: dict[int, float] = defaultdict(float)
    players: dict[int, list[int]] = defaultdict(list)
    for user in similar:
        for counts in theirs[user].values():
            for item, plays in counts.items():
                if item not in owned:
                    scores[item] += likeness[user] * math.log1p(plays)
                    players[item].append(user)
    items = await summaries(session, scores.keys())
    linkable = [item for item in scores if item in items and not items[item].id.startswith("~")]
    chosen = sorted(linkable, key=lambda item: (-scores[item], -len(players[item]), item))[:limit]
    my_artists = mine[ItemKind.ARTIST]
    links: dict[int, int] = {}
    for item in chosen:
        shared = Counter(
            artist
            for user in players[item]
            for artist in theirs[user][ItemKind.ARTIST]
            if artist in my_artists
        )
        links[item] = min(
            shared or Counter(seeds[:1]),
            key=lambda artist: (-shared[artist], -my_artists[artist], artist),
        )
    named = await summaries(session, set(links.values()))
    return [
        Recommendation(items[item], scores[item], len(players[item]), named[links[item]])
        for item in chosen
        if links[item] in named
    ]
