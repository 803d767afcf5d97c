"""Rankings by plays for one guild: boards, listeners of an item, a member's top, compat.

Who counts: a guild's current members (`guild_members`) who have not hidden themselves there
(`member_visibility`), linked or not: plays need no link. A member's plays belong to the user
and count in every guild where they count. A member's own rankings read the per-user
aggregates (`play_days` for a period, `play_totals` for all time; bot/store/plays.py).

Speed: server-wide boards and /whoknows read the per-guild play boards of
bot/store/guild_plays.py (`guild_play_periods`, `user_play_periods`, `guild_play_members`),
rolled to today first; summing every member's day rows per request missed the 50 ms target
already at 50 members x 60 days. tests/store/test_play_rankings.py and
tests/store/test_guild_plays.py check them against a recount from raw plays.

Periods are rolling windows of whole UTC days ending today: `week` is today and the 6 days
before it, and so on; `all` reads `play_totals`.

Compatibility by plays: per kind (artists, tracks), each member's profile is the vector
w(item) = log(1 + plays) over the period; the overlap is the cosine Σ wa·wb / (|wa| |wb|),
0 for disjoint profiles and 1 for proportional ones. The logarithm keeps one item played on
repeat from outweighing a broad shared taste. The score is the mean over the kinds at least one
member played, as a percentage; symmetric by construction.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    CatalogItem,
    GuildMember,
    GuildPlayMember,
    GuildPlayPeriod,
    Play,
    PlayDay,
    PlayTotal,
    UserPlayPeriod,
)
from bot.domain import ItemKind, Period
from bot.store.guild_plays import ensure_current, period_code
from bot.store.leaderboard import check_page
from bot.store.plays import PlayedItem, _played_item, day_of
from bot.store.visibility import shown_in

COMPAT_KINDS = (ItemKind.ARTIST, ItemKind.TRACK)
SHARED_LIMIT = 10
PROFILE_LIMIT = 2_000
"""Items per member and kind a compat profile reads (their most played): the long tail of
single plays moves the cosine very little and would make the read unbounded."""


@dataclass(frozen=True)
class PlayBoardEntry:
    position: int
    item: PlayedItem
    plays: int
    listeners: int


@dataclass(frozen=True)
class PlayBoard:
    kind: ItemKind
    period: Period
    offset: int
    entries: list[PlayBoardEntry]
    total_items: int
    members: int


@dataclass(frozen=True)
class PlayListener:
    discord_user_id: int
    plays: int


@dataclass(frozen=True)
class SharedPlays:
    item: PlayedItem
    plays_a: int
    plays_b: int


@dataclass(frozen=True)
class PlayCompat:
    score: int
    artists: float | None
    tracks: float | None
    shared: list[SharedPlays]
    shared_total: int


def since_day(period: Period, today: date | None = None) -> int | None:
    """The first UTC day number inside the period (None: all time)."""
    days = period.days
    if days is None:
        return None
    today = today or datetime.now(UTC).date()
    return day_of(today - timedelta(days=days - 1))


def counted(guild_id: int, user: ColumnElement[int] | object) -> ColumnElement[bool]:
    """Join condition to `GuildMember`: `user` (a column) counts in the guild."""
    return and_(
        GuildMember.guild_id == guild_id,
        GuildMember.discord_user_id == user,
        shown_in(guild_id, GuildMember.discord_user_id),
    )


async def counted_members(session: AsyncSession, guild_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(GuildMember)
            .where(
                GuildMember.guild_id == guild_id, shown_in(guild_id, GuildMember.discord_user_id)
            )
        )
        or 0
    )


async def guild_board(
    session: AsyncSession,
    guild_id: int,
    kind: ItemKind,
    period: Period,
    offset: int = 0,
    limit: int = 10,
) -> PlayBoard:
    """The guild's items of `kind` by plays in the period: most plays first, then most
    listeners, then catalog id."""
    check_page(offset, limit)
    await ensure_current(session)
    board = GuildPlayPeriod
    where = (
        board.guild_id == guild_id,
        board.kind == int(kind),
        board.period == period_code(period),
    )
    total = int(await session.scalar(select(func.count()).select_from(board).where(*where)) or 0)
    ranked = (
        select(board.item_id, board.plays, board.listeners)
        .where(*where)
        .order_by(board.plays.desc(), board.listeners.desc(), board.item_id)
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    rows = await session.execute(
        select(CatalogItem, ranked.c.plays, ranked.c.listeners)
        .join(ranked, ranked.c.item_id == CatalogItem.id)
        .order_by(ranked.c.plays.desc(), ranked.c.listeners.desc(), CatalogItem.id)
    )
    entries = [
        PlayBoardEntry(offset + position, _played_item(item), int(plays), int(listeners))
        for position, (item, plays, listeners) in enumerate(rows, start=1)
    ]
    members = await counted_members(session, guild_id)
    return PlayBoard(kind, period, offset, entries, total, members)


async def guild_has_plays_since(session: AsyncSession, guild_id: int, since: datetime) -> bool:
    """Whether a counted member of the guild has a play started at or after `since`."""
    found = await session.scalar(
        select(Play.discord_user_id)
        .join(GuildMember, counted(guild_id, Play.discord_user_id))
        .where(Play.started_at >= since)
        .limit(1)
    )
    return found is not None


async def item_listeners(
    session: AsyncSession,
    guild_id: int,
    kind: ItemKind,
    item_id: int,
    period: Period,
    limit: int = 25,
) -> list[PlayListener]:
    """Counted members who played the item in the period, most plays first (ties by user)."""
    await ensure_current(session)
    member = and_(
        GuildPlayMember.guild_id == guild_id,
        GuildPlayMember.discord_user_id == PlayTotal.discord_user_id,
    )
    query: Select[int, int]
    if period is Period.ALL:
        query = (
            select(PlayTotal.discord_user_id, PlayTotal.plays)
            .join(GuildPlayMember, member)
            .where(PlayTotal.kind == int(kind), PlayTotal.item_id == item_id)
            .order_by(PlayTotal.plays.desc(), PlayTotal.discord_user_id)
        )
    else:
        rows = UserPlayPeriod
        query = (
            select(rows.discord_user_id, rows.plays)
            .join(
                GuildPlayMember,
                and_(
                    GuildPlayMember.guild_id == guild_id,
                    GuildPlayMember.discord_user_id == rows.discord_user_id,
                ),
            )
            .where(
                rows.kind == int(kind),
                rows.period == period_code(period),
                rows.item_id == item_id,
            )
            .order_by(rows.plays.desc(), rows.discord_user_id)
        )
    result = await session.execute(query.limit(limit))
    return [PlayListener(int(user), int(plays)) for user, plays in result]


async def played_item(session: AsyncSession, item_id: int) -> PlayedItem | None:
    row = await session.get(CatalogItem, item_id)
    return _played_item(row) if row is not None else None


async def item_by_spotify_id(
    session: AsyncSession, kind: ItemKind, spotify_id: str
) -> PlayedItem | None:
    row = await session.scalar(
        select(CatalogItem).where(
            CatalogItem.kind == int(kind), CatalogItem.spotify_id == spotify_id
        )
    )
    return _played_item(row) if row is not None else None


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def played_items_named(
    session: AsyncSession, guild_id: int, kind: ItemKind, text: str, limit: int
) -> list[PlayedItem]:
    """Items of `kind` a counted member of the guild played whose name contains `text`
    (ignoring case), names starting with it first; an exact name first of all."""
    needle = _like_escaped(text.strip())
    like = (
        CatalogItem.name.like
        if session.get_bind().dialect.name == "sqlite"
        else CatalogItem.name.ilike
    )
    played_here = (
        select(PlayTotal.item_id)
        .join(GuildMember, counted(guild_id, PlayTotal.discord_user_id))
        .where(PlayTotal.kind == int(kind), PlayTotal.item_id == CatalogItem.id)
        .exists()
    )
    exact = func.lower(CatalogItem.name) == text.strip().lower()
    starts = like(f"{needle}%", escape="\\")
    rows = await session.scalars(
        select(CatalogItem)
        .where(
            CatalogItem.kind == int(kind),
            or_(exact, like(f"%{needle}%", escape="\\")),
            played_here,
        )
        .order_by(exact.desc(), starts.desc(), CatalogItem.name, CatalogItem.id)
        .limit(limit)
    )
    return [_played_item(row) for row in rows]


async def member_top(
    session: AsyncSession,
    discord_user_id: int,
    kind: ItemKind,
    period: Period,
    limit: int = 50,
) -> list[tuple[PlayedItem, int]]:
    """The member's most played items of `kind` in the period, with their plays."""
    start = since_day(period)
    if start is None:
        plays_col = PlayTotal.plays.label("plays")
        ranked = (
            select(PlayTotal.item_id, plays_col)
            .where(PlayTotal.discord_user_id == discord_user_id, PlayTotal.kind == int(kind))
            .order_by(plays_col.desc(), PlayTotal.item_id)
            .limit(limit)
            .subquery()
        )
    else:
        total = func.sum(PlayDay.plays).label("plays")
        ranked = (
            select(PlayDay.item_id, total)
            .where(
                PlayDay.discord_user_id == discord_user_id,
                PlayDay.kind == int(kind),
                PlayDay.day >= start,
            )
            .group_by(PlayDay.item_id)
            .order_by(total.desc(), PlayDay.item_id)
            .limit(limit)
            .subquery()
        )
    rows = await session.execute(
        select(CatalogItem, ranked.c.plays)
        .join(ranked, ranked.c.item_id == CatalogItem.id)
        .order_by(ranked.c.plays.desc(), CatalogItem.id)
    )
    return [(_played_item(item), int(plays)) for item, plays in rows]


async def profile(
    session: AsyncSession, discord_user_id: int, kind: ItemKind, period: Period
) -> dict[int, int]:
    start = since_day(period)
    if start is None:
        query = (
            select(PlayTotal.item_id, PlayTotal.plays)
            .where(PlayTotal.discord_user_id == discord_user_id, PlayTotal.kind == int(kind))
            .order_by(PlayTotal.plays.desc(), PlayTotal.item_id)
        )
    else:
        total = func.sum(PlayDay.plays)
        query = (
            select(PlayDay.item_id, total)
            .where(
                PlayDay.discord_user_id == discord_user_id,
                PlayDay.kind == int(kind),
                PlayDay.day >= start,
            )
            .group_by(PlayDay.item_id)
            .order_by(total.desc(), PlayDay.item_id)
        )
    rows = await session.execute(query.limit(PROFILE_LIMIT))
    return {int(item): int(plays) for item, plays in rows}


def cosine(a: dict[int, int], b: dict[int, int]) -> float:
    """Cosine of the log-weighted play vectors (see the module docstring)."""
    wa = {item: math.log1p(plays) for item, plays in a.items()}
    wb = {item: math.log1p(plays) for item, plays in b.items()}
    norm = math.sqrt(sum(w * w for w in wa.values())) * math.sqrt(sum(w * w for w in wb.values()))
    if norm == 0:
        return 0.0
    return min(1.0, sum(w * wb[item] for item, w in wa.items() if item in wb) / norm)


async def compat_by_plays(
    session: AsyncSession, user_a: int, user_b: int, period: Period
) -> PlayCompat | None:
    """How alike two members' listening is over the period; None when neither played."""
    overlaps: dict[ItemKind, float | None] = {}
    shared: list[tuple[int, int, int, int]] = []  # (min plays, item, plays a, plays b)
    for kind in COMPAT_KINDS:
        a = await profile(session, user_a, kind, period)
        b = await profile(session, user_b, kind, period)
        overlaps[kind] = cosine(a, b) if a or b else None
        if kind is ItemKind.ARTIST:
            shared = sorted(
                ((min(a[i], b[i]), i, a[i], b[i]) for i in a.keys() & b.keys()),
                key=lambda row: (-row[0], -(row[2] + row[3]), row[1]),
            )
    present = [value for value in overlaps.values() if value is not None]
    if not present:
        return None
    score = round(100 * sum(present) / len(present))
    items: list[SharedPlays] = []
    for _, item_id, plays_a, plays_b in shared[:SHARED_LIMIT]:
        item = await played_item(session, item_id)
        if item is not None:
            items.append(SharedPlays(item, plays_a, plays_b))
    return PlayCompat(
        score=score,
        artists=overlaps[ItemKind.ARTIST],
        tracks=overlaps[ItemKind.TRACK],
        shared=items,
        shared_total=len(shared),
    )


async def with_plays_among(session: AsyncSession, user_ids: Collection[int]) -> set[int]:
    """Those of the users who have any play (one seek per user on `play_totals`' key)."""
    rows = await session.scalars(
        select(PlayTotal.discord_user_id).where(PlayTotal.discord_user_id.in_(user_ids)).distinct()
    )
    return set(rows)
