"""Per-guild scores behind leaderboards and who-knows, kept current as lists and members change.

A member's list (one kind, one range) *counts* in a guild while the member is in the guild,
visible there and actively linked. A counted list gives each item on it `51 - rank` points
(rank 1 → 50 … rank 50 → 1; ranks past 50 count for nothing) and one listener; lists hold
distinct items (replace_snapshot keeps the first of any repeats). A leaderboard score is
points / 50, i.e. the sum over members of (51 - rank) / 50: a #1 counts 1.0, a #50 counts 0.02.
Integer points keep incremental upkeep exactly equal to a rebuild.

`guild_score_members` records which lists count where (and their point totals);
`guild_item_scores` holds the per-item sums and `guild_board_sizes` how many items each board
holds. Every change goes through the functions below, inside the caller's transaction:

- a snapshot is replaced: `withdraw_list` before its old items are deleted, `count_list` after
  the new ones are written (bot/store/snapshots.py does both);
- a member joins, changes visibility, or their link status changes: `sync_members` after;
- a member leaves a guild: `forget_member(session, user, guild_id)` before the membership
  row is deleted; a member's data is deleted (unlink, account moved): `forget_member(session,
  user)` before anything is deleted;
- the bot leaves a guild: `forget_guild` before its memberships are deleted.

The same hooks keep whose plays count in the per-guild play boards (bot/store/guild_plays.py):
plays need no link, so there only membership and visibility matter.

`rebuild_guild_scores` recomputes one guild from the source tables (a repair tool, and the
reference the incremental upkeep is tested against).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import lock_shared_writes, upsert_insert
from bot.db.models import (
    CatalogItem,
    GuildBoardSize,
    GuildItemScore,
    GuildMember,
    GuildScoreMember,
    SpotifyLink,
    TopItem,
    TopSnapshot,
)
from bot.domain import LinkStatus
from bot.store import guild_plays
from bot.store.visibility import shown_in

MAX_RANK = 50
SCORE_SCALE = 50
IN_CHUNK = 500

SCORES: Table = GuildItemScore.__table__  # type: ignore[assignment]
SIZES: Table = GuildBoardSize.__table__  # type: ignore[assignment]
COUNTED: Table = GuildScoreMember.__table__  # type: ignore[assignment]


def counted_in(guild_id: int) -> ColumnElement[bool]:
    """Join condition from `TopItem` to `GuildScoreMember`: the item's list counts in the guild."""
    return and_(
        GuildScoreMember.guild_id == guild_id,
        GuildScoreMember.kind == TopItem.kind,
        GuildScoreMember.time_range == TopItem.time_range,
        GuildScoreMember.discord_user_id == TopItem.discord_user_id,
    )


def weight(rank: int) -> int:
    """Points an item at `rank` earns (0 past MAX_RANK)."""
    return MAX_RANK + 1 - rank if rank <= MAX_RANK else 0


@dataclass(frozen=True)
class ListKey:
    discord_user_id: int
    kind: int
    time_range: int


def _chunks(values: Collection[int]) -> Iterable[list[int]]:
    ordered = list(values)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


def _counting_guilds(*columns: Any) -> Select[Any]:
    """Memberships whose member may count: visible there and actively linked."""
    return (
        select(*(columns or (GuildMember.guild_id, GuildMember.discord_user_id)))
        .join(SpotifyLink, SpotifyLink.discord_user_id == GuildMember.discord_user_id)
        .where(
            shown_in(GuildMember.guild_id, GuildMember.discord_user_id),
            SpotifyLink.status == LinkStatus.ACTIVE,
        )
    )


@dataclass(frozen=True)
class ListEntry:
    points: int
    name: str


async def _list_points(session: AsyncSession, key: ListKey) -> dict[int, ListEntry]:
    """item_id -> what each item of one member's list adds, with its catalog name."""
    rows = await session.execute(
        select(TopItem.item_id, TopItem.rank, CatalogItem.name)
        .join(CatalogItem, CatalogItem.id == TopItem.item_id)
        .where(
            TopItem.discord_user_id == key.discord_user_id,
            TopItem.kind == key.kind,
            TopItem.time_range == key.time_range,
            TopItem.rank <= MAX_RANK,
        )
    )
    return {item_id: ListEntry(weight(rank), name) for item_id, rank, name in rows}


async def _resize(session: AsyncSession, key: ListKey, added: Mapping[int, int]) -> None:
    """Move the sizes of these guilds' boards for `key`'s kind and range by `added` items;
    a board left with none has no row, as after a rebuild."""
    changed = {guild_id: n for guild_id, n in added.items() if n}
    if not changed:
        return
    stmt = upsert_insert(session)(SIZES)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["guild_id", "kind", "time_range"],
            set_={"item_count": SIZES.c.item_count + stmt.excluded.item_count},
        ),
        [
            {"guild_id": guild_id, "kind": key.kind, "time_range": key.time_range, "item_count": n}
            for guild_id, n in sorted(changed.items())
        ],
    )
    if any(n < 0 for n in changed.values()):
        await session.execute(
            delete(SIZES).where(
                SIZES.c.guild_id.in_(changed),
                SIZES.c.kind == key.kind,
                SIZES.c.time_range == key.time_range,
                SIZES.c.item_count <= 0,
            )
        )


async def _add(
    session: AsyncSession, guild_ids: Collection[int], key: ListKey, items: dict[int, ListEntry]
) -> None:
    """Add a list's points; the boards grow by the items they did not hold yet (read first,
    which is exact because writers of the scores take turns: see `lock_shared_writes`)."""
    if not guild_ids or not items:
        return
    held = await session.execute(
        select(SCORES.c.guild_id, func.count())
        .where(
            SCORES.c.guild_id.in_(guild_ids),
            SCORES.c.kind == key.kind,
            SCORES.c.time_range == key.time_range,
            SCORES.c.item_id.in_(items),
        )
        .group_by(SCORES.c.guild_id)
    )
    already = {guild_id: count for guild_id, count in held}
    added = {guild_id: len(items) - already.get(guild_id, 0) for guild_id in guild_ids}
    stmt = upsert_insert(session)(SCORES)
    stmt = stmt.on_conflict_do_update(
        index_elements=["guild_id", "kind", "time_range", "item_id"],
        set_={
            "points": SCORES.c.points + stmt.excluded.points,
            "listeners": SCORES.c.listeners + 1,
            "sort_name": stmt.excluded.sort_name,
        },
    )
    await session.execute(
        stmt,
        [
            {
                "guild_id": guild_id,
                "kind": key.kind,
                "time_range": key.time_range,
                "item_id": item_id,
                "points": item.points,
                "listeners": 1,
                "sort_name": item.name,
            }
            for guild_id in guild_ids
            for item_id, item in items.items()
        ],
    )
    await _resize(session, key, added)


async def _subtract(
    session: AsyncSession, guild_ids: Collection[int], key: ListKey, items: dict[int, ListEntry]
) -> None:
    if not guild_ids or not items:
        return
    stmt = (
        update(SCORES)
        .where(
            SCORES.c.guild_id == bindparam("g"),
            SCORES.c.kind == key.kind,
            SCORES.c.time_range == key.time_range,
            SCORES.c.item_id == bindparam("i"),
        )
        .values(points=SCORES.c.points - bindparam("p"), listeners=SCORES.c.listeners - 1)
    )
    await session.execute(
        stmt,
        [
            {"g": guild_id, "i": item_id, "p": item.points}
            for guild_id in guild_ids
            for item_id, item in items.items()
        ],
    )
    emptied = await session.scalars(
        delete(SCORES)
        .where(
            SCORES.c.guild_id.in_(guild_ids),
            SCORES.c.kind == key.kind,
            SCORES.c.time_range == key.time_range,
            SCORES.c.item_id.in_(items),
            SCORES.c.listeners <= 0,
        )
        .returning(SCORES.c.guild_id)
    )
    removed = Counter(emptied)
    await _resize(session, key, {guild_id: -n for guild_id, n in removed.items()})


async def _refresh_names(session: AsyncSession, item_ids: Collection[int]) -> None:
    """Carry catalog renames into every guild's tie-break name for these items."""
    if not item_ids:
        return
    name = select(CatalogItem.name).where(CatalogItem.id == SCORES.c.item_id).scalar_subquery()
    await session.execute(
        update(SCORES)
        .where(SCORES.c.item_id.in_(item_ids), SCORES.c.sort_name != name)
        .values(sort_name=name)
    )


async def withdraw_list(
    session: AsyncSession,
    discord_user_id: int,
    kind: int,
    time_range: int,
    guild_ids: Collection[int] | None = None,
) -> None:
    """Stop counting one list (in every guild, or only `guild_ids`). Call before its items go.

    The DELETE ... RETURNING decides which guilds to subtract from, so two transactions
    withdrawing the same list cannot both subtract it.
    """
    await lock_shared_writes(session)
    key = ListKey(discord_user_id, int(kind), int(time_range))
    stmt = delete(COUNTED).where(
        COUNTED.c.discord_user_id == key.discord_user_id,
        COUNTED.c.kind == key.kind,
        COUNTED.c.time_range == key.time_range,
    )
    if guild_ids is not None:
        stmt = stmt.where(COUNTED.c.guild_id.in_(guild_ids))
    withdrawn = list(await session.scalars(stmt.returning(COUNTED.c.guild_id)))
    if withdrawn:
        await _subtract(session, withdrawn, key, await _list_points(session, key))


async def count_list(
    session: AsyncSession,
    discord_user_id: int,
    kind: int,
    time_range: int,
    guild_ids: Collection[int] | None = None,
) -> None:
    """Count one stored list in every guild where its member may count (or only `guild_ids`).

    Lists already counted somewhere are left alone there, so calling it twice is harmless.
    """
    await lock_shared_writes(session)
    key = ListKey(discord_user_id, int(kind), int(time_range))
    await session.flush()
    items = await _list_points(session, key)
    await _refresh_names(session, items)
    eligible = (
        _counting_guilds(GuildMember.guild_id, TopSnapshot.fetched_at)
        .join(
            TopSnapshot,
            and_(
                TopSnapshot.discord_user_id == GuildMember.discord_user_id,
                TopSnapshot.kind == key.kind,
                TopSnapshot.time_range == key.time_range,
            ),
        )
        .where(GuildMember.discord_user_id == key.discord_user_id)
    )
    if guild_ids is not None:
        eligible = eligible.where(GuildMember.guild_id.in_(guild_ids))
    guilds = (await session.execute(eligible)).all()
    if not guilds:
        return
    total = sum(item.points for item in items.values())
    stmt = (
        upsert_insert(session)(COUNTED)
        .values(
            [
                {
                    "guild_id": guild_id,
                    "kind": key.kind,
                    "time_range": key.time_range,
                    "discord_user_id": key.discord_user_id,
                    "fetched_at": fetched_at,
                    "points": total,
                }
                for guild_id, fetched_at in guilds
            ]
        )
        .on_conflict_do_nothing()
        .returning(COUNTED.c.guild_id)
    )
    counted = list(await session.scalars(stmt))
    await _add(session, counted, key, items)


async def _counted(
    session: AsyncSession, user_ids: list[int], guild_id: int | None
) -> set[tuple[int, ListKey]]:
    stmt = select(
        GuildScoreMember.guild_id,
        GuildScoreMember.discord_user_id,
        GuildScoreMember.kind,
        GuildScoreMember.time_range,
    ).where(GuildScoreMember.discord_user_id.in_(user_ids))
    if guild_id is not None:
        stmt = stmt.where(GuildScoreMember.guild_id == guild_id)
    rows = await session.execute(stmt)
    return {(g, ListKey(u, k, r)) for g, u, k, r in rows}


async def _countable(
    session: AsyncSession, user_ids: list[int], guild_id: int | None
) -> set[tuple[int, ListKey]]:
    memberships = _counting_guilds().subquery()
    stmt = (
        select(
            memberships.c.guild_id,
            TopSnapshot.discord_user_id,
            TopSnapshot.kind,
            TopSnapshot.time_range,
        )
        .join(memberships, memberships.c.discord_user_id == TopSnapshot.discord_user_id)
        .where(TopSnapshot.discord_user_id.in_(user_ids))
    )
    if guild_id is not None:
        stmt = stmt.where(memberships.c.guild_id == guild_id)
    rows = await session.execute(stmt)
    return {(g, ListKey(u, k, r)) for g, u, k, r in rows}


def _by_list(pairs: Iterable[tuple[int, ListKey]]) -> dict[ListKey, set[int]]:
    grouped: dict[ListKey, set[int]] = defaultdict(set)
    for guild_id, key in pairs:
        grouped[key].add(guild_id)
    return grouped


async def sync_members(
    session: AsyncSession, discord_user_ids: Collection[int], guild_id: int | None = None
) -> None:
    """Make what counts for these members match their memberships, visibility and links.

    Call after recording members, changing visibility or changing a link's status (in every
    guild, or only `guild_id`).
    """
    await session.flush()
    for chunk in _chunks(discord_user_ids):
        counted = await _counted(session, chunk, guild_id)
        countable = await _countable(session, chunk, guild_id)
        for key, guilds in _by_list(counted - countable).items():
            await withdraw_list(session, key.discord_user_id, key.kind, key.time_range, guilds)
        for key, guilds in _by_list(countable - counted).items():
            await count_list(session, key.discord_user_id, key.kind, key.time_range, guilds)
    await guild_plays.sync_members(session, discord_user_ids, guild_id)


async def forget_member(
    session: AsyncSession, discord_user_id: int, guild_id: int | None = None
) -> None:
    """Withdraw all of a member's lists (everywhere, or in one guild) before deleting them."""
    guilds = None if guild_id is None else [guild_id]
    for key in {key for _, key in await _counted(session, [discord_user_id], guild_id)}:
        await withdraw_list(session, key.discord_user_id, key.kind, key.time_range, guilds)
    await guild_plays.forget_member(session, discord_user_id, guild_id)


async def forget_guild(session: AsyncSession, guild_id: int) -> None:
    """Drop a guild's scores and play boards (before its memberships are deleted)."""
    await _drop_scores(session, guild_id)
    await guild_plays.forget_guild(session, guild_id)


async def _drop_scores(session: AsyncSession, guild_id: int) -> None:
    await lock_shared_writes(session)
    await session.execute(delete(SIZES).where(SIZES.c.guild_id == guild_id))
    await session.execute(delete(SCORES).where(SCORES.c.guild_id == guild_id))
    await session.execute(delete(COUNTED).where(COUNTED.c.guild_id == guild_id))


async def rebuild_guild_scores(session: AsyncSession, guild_id: int) -> None:
    """Recompute one guild's scores from memberships, links and snapshots.

    On PostgreSQL other writers of the scores wait meanwhile (SQLite has one writer anyway):
    upkeep running alongside could otherwise withdraw rows this is replacing.
    """
    await lock_shared_writes(session)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text(
                "LOCK TABLE guild_score_members, guild_item_scores, guild_board_sizes"
                " IN EXCLUSIVE MODE"
            )
        )
    await _drop_scores(session, guild_id)
    memberships = _counting_guilds().where(GuildMember.guild_id == guild_id).subquery()
    points = literal(MAX_RANK + 1) - TopItem.rank
    await session.execute(
        insert(COUNTED).from_select(
            ["guild_id", "kind", "time_range", "discord_user_id", "fetched_at", "points"],
            select(
                memberships.c.guild_id,
                TopSnapshot.kind,
                TopSnapshot.time_range,
                TopSnapshot.discord_user_id,
                TopSnapshot.fetched_at,
                func.coalesce(func.sum(points), 0),
            )
            .join(memberships, memberships.c.discord_user_id == TopSnapshot.discord_user_id)
            .outerjoin(
                TopItem,
                and_(
                    TopItem.discord_user_id == TopSnapshot.discord_user_id,
                    TopItem.kind == TopSnapshot.kind,
                    TopItem.time_range == TopSnapshot.time_range,
                    TopItem.rank <= MAX_RANK,
                ),
            )
            .group_by(
                memberships.c.guild_id,
                TopSnapshot.kind,
                TopSnapshot.time_range,
                TopSnapshot.discord_user_id,
                TopSnapshot.fetched_at,
            ),
        )
    )
    sums = (
        select(
            TopItem.kind,
            TopItem.time_range,
            TopItem.item_id,
            func.sum(points).label("points"),
            func.count().label("listeners"),
        )
        .select_from(COUNTED)
        .join(
            TopItem,
            and_(
                TopItem.discord_user_id == COUNTED.c.discord_user_id,
                TopItem.kind == COUNTED.c.kind,
                TopItem.time_range == COUNTED.c.time_range,
                TopItem.rank <= MAX_RANK,
            ),
        )
        .where(COUNTED.c.guild_id == guild_id)
        .group_by(TopItem.kind, TopItem.time_range, TopItem.item_id)
        .subquery()
    )
    await session.execute(
        insert(SCORES).from_select(
            ["guild_id", "kind", "time_range", "item_id", "points", "listeners", "sort_name"],
            select(
                literal(guild_id),
                sums.c.kind,
                sums.c.time_range,
                sums.c.item_id,
                sums.c.points,
                sums.c.listeners,
                CatalogItem.name,
            ).join(CatalogItem, CatalogItem.id == sums.c.item_id),
        )
    )
    await session.execute(
        insert(SIZES).from_select(
            ["guild_id", "kind", "time_range", "item_count"],
            select(SCORES.c.guild_id, SCORES.c.kind, SCORES.c.time_range, func.count())
            .where(SCORES.c.guild_id == guild_id)
            .group_by(SCORES.c.guild_id, SCORES.c.kind, SCORES.c.time_range),
        )
    )
