"""Who in a guild has an artist in their top list, and which artists a guild knows at all.

Only members whose list counts in the guild's scores appear (in the guild, visible, actively
linked): `guild_score_members` is the single answer to "who counts here". A who-knows page
walks `ix_top_items_item_rank` in rank order and stops once the page is full.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import CatalogItem, GuildItemScore, GuildScoreMember, TopItem
from bot.domain import DEFAULT_TIME_RANGE, ItemKind, TimeRange
from bot.services.items import ItemSummary
from bot.store.leaderboard import check_page, leaderboard
from bot.store.scores import MAX_RANK, SCORE_SCALE, counted_in
from bot.store.snapshots import summary_of

AUTOCOMPLETE_LIMIT = 25


@dataclass(frozen=True)
class Listener:
    discord_user_id: int
    rank: int


@dataclass(frozen=True)
class WhoKnows:
    artist: ItemSummary  # the item asked about: an artist or a track
    time_range: TimeRange
    offset: int
    listeners: list[Listener]
    total: int
    score: float


async def who_knows(
    session: AsyncSession,
    guild_id: int,
    artist_spotify_id: str,
    time_range: TimeRange,
    offset: int = 0,
    limit: int = 10,
    kind: ItemKind = ItemKind.ARTIST,
) -> WhoKnows | None:
    """Members with the item (an artist or track) in their list, best rank first; None when
    Encore never saw it."""
    check_page(offset, limit)
    code = int(time_range)
    artist = await session.scalar(
        select(CatalogItem).where(
            CatalogItem.kind == int(kind), CatalogItem.spotify_id == artist_spotify_id
        )
    )
    if artist is None:
        return None
    rows = await session.execute(
        select(TopItem.discord_user_id, TopItem.rank)
        .join(GuildScoreMember, counted_in(guild_id))
        .where(
            TopItem.kind == int(kind),
            TopItem.time_range == code,
            TopItem.item_id == artist.id,
            TopItem.rank <= MAX_RANK,
        )
        .order_by(TopItem.rank, TopItem.discord_user_id)
        .limit(limit)
        .offset(offset)
    )
    score = await session.get(GuildItemScore, (guild_id, int(kind), code, artist.id))
    return WhoKnows(
        artist=summary_of(artist),
        time_range=time_range,
        offset=offset,
        listeners=[Listener(user, rank) for user, rank in rows],
        total=score.listeners if score else 0,
        score=score.points / SCORE_SCALE if score else 0.0,
    )


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def known_artists(
    session: AsyncSession,
    guild_id: int,
    prefix: str,
    limit: int = AUTOCOMPLETE_LIMIT,
    kind: ItemKind = ItemKind.ARTIST,
) -> list[ItemSummary]:
    """Artists (or tracks, by `kind`) in this guild's counted lists (any range) whose name
    contains `prefix`, ignoring case: names starting with it first, then the guild's
    favourites. Without a prefix: the top of the guild's leaderboard (last 6 months)."""
    text = prefix.strip()
    if not text:
        board = await leaderboard(session, guild_id, kind, DEFAULT_TIME_RANGE, 0, limit)
        return [entry.item for entry in board.entries]
    needle = _like_escaped(text)
    name = GuildItemScore.sort_name
    # SQLite's LIKE already ignores ASCII case (and its lower() knows no more than ASCII).
    like = name.like if session.get_bind().dialect.name == "sqlite" else name.ilike
    starts = like(f"{needle}%", escape="\\")
    matches = (
        select(
            GuildItemScore.item_id,
            func.max(case((starts, 1), else_=0)).label("starts"),
            func.sum(GuildItemScore.points).label("points"),
        )
        .where(
            GuildItemScore.guild_id == guild_id,
            GuildItemScore.kind == int(kind),
            like(f"%{needle}%", escape="\\"),
        )
        # Grouping by name too (one name per item) keeps SQLite on this guild's index range
        # instead of walking the whole table in item order.
        .group_by(name, GuildItemScore.item_id)
        .subquery()
    )
    rows = await session.scalars(
        select(CatalogItem)
        .join(matches, matches.c.item_id == CatalogItem.id)
        .order_by(matches.c.starts.desc(), matches.c.points.desc(), CatalogItem.name)
        .limit(limit)
    )
    return [summary_of(row) for row in rows]


async def top_list_ranks(
    session: AsyncSession,
    guild_id: int,
    kind: ItemKind,
    item_id: int,
    time_range: TimeRange,
    limit: int = 25,
) -> list[Listener]:
    """Members whose counted top list of `kind` holds the catalog item, best rank first."""
    rows = await session.execute(
        select(TopItem.discord_user_id, TopItem.rank)
        .join(GuildScoreMember, counted_in(guild_id))
        .where(
            TopItem.kind == int(kind),
            TopItem.time_range == int(time_range),
            TopItem.item_id == item_id,
            TopItem.rank <= MAX_RANK,
        )
        .order_by(TopItem.rank, TopItem.discord_user_id)
        .limit(limit)
    )
    return [Listener(user, rank) for user, rank in rows]
