"""The hot statements of `record_plays`, straight to the driver inside the session's transaction.

An import stores tens of thousands of plays a second, each adding about seven aggregate rows;
binding that many rows through SQLAlchemy costs more than the database does. So checked plays
go to the driver once, into a temporary table on SQLite (`executemany` of plain tuples) or as
arrays on PostgreSQL (`unnest`), and the insert into `plays` and the grouping into the
aggregates run as a few set statements in the database. Times are written in the format
SQLAlchemy stores on SQLite (`UTCDateTime`), so both paths read and compare the same text.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import guild_plays

R = TypeVar("R")
PlayKey = tuple[int, int, datetime, int]
"""(discord_user_id, track_item_id, started_at, ms_played)"""
PlayValues = tuple[int, datetime, int, int, int]
"""(discord_user_id, started_at, track_item_id, ms_played, source)"""


OFF_LOOP_ROWS = 2_000
"""Work over more rows than this runs in a worker thread: an import's batch of thousands of
plays would otherwise hold the event loop (and every member's command) for tens of ms."""


async def off_loop(rows: int, function: Callable[..., R], *args: Any) -> R:
    """`function(*args)`, in a worker thread when it covers more than `OFF_LOOP_ROWS` rows."""
    if rows > OFF_LOOP_ROWS:
        return await asyncio.to_thread(function, *args)
    return function(*args)


async def _driver(session: AsyncSession) -> tuple[str, Any]:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return connection.dialect.name, raw.driver_connection


def sqlite_time(moment: datetime) -> str:
    """`moment` as SQLAlchemy's SQLite DATETIME text (UTC)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _parse_sqlite_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_PLAYS_COLUMNS = "discord_user_id, track_item_id, started_at, ms_played"


async def plays_between(
    session: AsyncSession,
    windows: Sequence[tuple[Sequence[int], datetime, datetime]],
) -> list[PlayKey]:
    """Stored plays of each window's users started within the window (bounds included)."""
    dialect, driver = await _driver(session)
    found: list[PlayKey] = []
    for users, low, high in windows:
        if dialect == "postgresql":
            rows = await driver.fetch(
                f"SELECT {_PLAYS_COLUMNS} FROM plays WHERE discord_user_id = ANY($1::bigint[])"
                " AND started_at BETWEEN $2 AND $3",
                list(users),
                low,
                high,
            )
            found.extend((r[0], r[1], r[2].astimezone(UTC), r[3]) for r in rows)
            continue
        marks = ", ".join("?" * len(users))
        cursor = await driver.execute(
            f"SELECT {_PLAYS_COLUMNS} FROM plays WHERE discord_user_id IN ({marks})"
            " AND started_at BETWEEN ? AND ?",
            (*users, sqlite_time(low), sqlite_time(high)),
        )
        rows = await cursor.fetchall()
        await cursor.close()
        found.extend((r[0], r[1], _parse_sqlite_time(r[2]), r[3]) for r in rows)
    return found


async def track_lengths(session: AsyncSession, item_ids: Collection[int]) -> dict[int, int | None]:
    """Known length (None: unknown) of each of these catalog tracks, in one statement."""
    dialect, driver = await _driver(session)
    if dialect == "postgresql":
        rows = await driver.fetch(
            "SELECT item_id, duration_ms FROM catalog_tracks WHERE item_id = ANY($1::int[])",
            list(item_ids),
        )
        return {r[0]: r[1] for r in rows}
    cursor = await driver.execute(
        "SELECT item_id, duration_ms FROM catalog_tracks"
        " WHERE item_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(item_ids)),),
    )
    rows = await cursor.fetchall()
    await cursor.close()
    return {r[0]: r[1] for r in rows}


_BATCH_ITEMS = """
SELECT b.discord_user_id, {track} AS kind, b.day, b.track_item_id AS item_id, b.ms_played
FROM {batch} b
UNION ALL
SELECT b.discord_user_id, {album}, b.day, t.album_item_id, b.ms_played
FROM {batch} b JOIN catalog_tracks t ON t.item_id = b.track_item_id
WHERE t.album_item_id IS NOT NULL
UNION ALL
SELECT b.discord_user_id, {artist}, b.day, a.artist_item_id, b.ms_played
FROM {batch} b JOIN track_artists a ON a.track_item_id = b.track_item_id
"""
_PLAY_ITEMS = (
    "SELECT discord_user_id, kind, day, item_id, 1 AS plays, ms_played FROM ({items}) AS p"
)
"""`_BATCH_ITEMS` as the aggregates read it: (user, kind, day, item, plays, ms) rows."""
_KEYS = {
    "play_days": "discord_user_id, kind, day, item_id",
    "play_totals": "discord_user_id, kind, item_id",
}


def _add_into(table: str, source: str, *, grouped: bool) -> str:
    """Add the (key..., plays, ms_played) rows of `source` onto `table`'s rows; `grouped`:
    they are one row per key already, else they are summed per key first."""
    keys = _KEYS[table]
    if grouped:
        rows = f"SELECT {keys}, plays, ms_played FROM {source} WHERE TRUE"
    else:
        rows = (
            f"SELECT {keys}, SUM(plays), SUM(ms_played) FROM ({source}) AS i"
            f" WHERE TRUE GROUP BY {keys}"
        )
    return (
        f"INSERT INTO {table} ({keys}, plays, ms_played) {rows}"
        f" ON CONFLICT ({keys}) DO UPDATE SET plays = {table}.plays + excluded.plays,"
        f" ms_played = {table}.ms_played + excluded.ms_played"
    )


_TOTALS_FROM_DELTA = _add_into(
    "play_totals",
    f"(SELECT * FROM play_period_delta WHERE period = {guild_plays.ALL_TIME}) AS d",
    grouped=True,
)
_KINDS = {"artist": 1, "track": 2, "album": 3}  # ItemKind values
_SQLITE_BATCH = "temp.play_batch"
_PG_BATCH = (
    "(SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[])"
    " AS u(discord_user_id, track_item_id, day, ms_played))"
)


async def take_write_lock(session: AsyncSession) -> None:
    """On SQLite, become the writer now (a write that changes nothing), so that nothing commits
    between the duplicate check and the insert of a batch. PostgreSQL writers of plays take
    `lock_shared_writes` instead."""
    dialect, driver = await _driver(session)
    if dialect == "sqlite":
        await driver.execute("DELETE FROM plays WHERE 0")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SQLITE_DAYS = "temp.play_batch_days"
_SQLITE_TEMP_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS play_batch (discord_user_id INTEGER, started_at TEXT,"
    " track_item_id INTEGER, ms_played INTEGER, source INTEGER, day INTEGER)",
    "CREATE TEMP TABLE IF NOT EXISTS play_batch_days (discord_user_id INTEGER, kind INTEGER,"
    " day INTEGER, item_id INTEGER, plays INTEGER, ms_played INTEGER)",
)
_FILL_SQLITE_BATCH = f"""
INSERT INTO {_SQLITE_BATCH} VALUES (?1,
printf('%s.%06d', strftime('%Y-%m-%d %H:%M:%S', ?2 / 1000000, 'unixepoch'), ?2 % 1000000),
?3, ?4, ?5, ?2 / 86400000000)
"""
"""One row of the batch from (user, start in microseconds since 1970, track, ms, source):
SQLite writes the start as `sqlite_time` would, and its day number; formatting times in
Python costs more than the inserts."""
_GROUP_SQLITE_DAYS = f"""
INSERT INTO {_SQLITE_DAYS}
SELECT discord_user_id, kind, day, item_id, COUNT(*), SUM(ms_played) FROM ({{items}}) AS i
GROUP BY discord_user_id, kind, day, item_id
"""
"""A batch's plays per (user, kind, day, item), grouped once: `play_days`, `play_totals` and
the per-guild boards read it."""

_INSERT_PLAYS = (
    "INSERT INTO plays (discord_user_id, started_at, track_item_id, ms_played, source)"
    " SELECT discord_user_id, started_at, track_item_id, ms_played, source FROM {source}"
    " WHERE TRUE ON CONFLICT DO NOTHING"
)


def _as_rows(plays: Sequence[PlayValues]) -> list[tuple[int, int, int, int, int]]:
    return [(u, (t - _EPOCH) // _MICROSECOND, i, m, s) for u, t, i, m, s in plays]


async def store_plays(session: AsyncSession, plays: Sequence[PlayValues]) -> int:
    """Insert checked plays and count them into `play_days` and `play_totals`: once for the
    track, once for its album, once per credited artist (as `catalog_tracks` and
    `track_artists` say now). The grouping runs in the database. Returns the plays inserted:
    all of them, as the caller holds the write lock and checked them against stored plays."""
    if not plays:
        return 0
    dialect, driver = await _driver(session)
    if dialect == "postgresql":
        rows = await driver.fetch(
            _INSERT_PLAYS.format(
                source="unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[],"
                " $5::smallint[]) AS u(discord_user_id, started_at, track_item_id, ms_played,"
                " source)"
            )
            + f" RETURNING {_PLAYS_COLUMNS}",
            *(list(column) for column in zip(*plays, strict=True)),
        )
        batch = [(r[0], r[1], int(r[2].timestamp() // 86_400), r[3]) for r in rows]
        if batch:
            items = _PLAY_ITEMS.format(items=_BATCH_ITEMS.format(batch=_PG_BATCH, **_KINDS))
            columns = [list(column) for column in zip(*batch, strict=True)]
            await driver.execute(_add_into("play_days", items, grouped=False), *columns)
            if not await _count_in_periods(session, items, columns):
                await driver.execute(_add_into("play_totals", items, grouped=False), *columns)
        return len(rows)
    for create in _SQLITE_TEMP_TABLES:
        await driver.execute(create)
    await driver.executemany(_FILL_SQLITE_BATCH, await off_loop(len(plays), _as_rows, plays))
    cursor = await driver.execute(_INSERT_PLAYS.format(source=_SQLITE_BATCH))
    inserted = cursor.rowcount
    await cursor.close()
    if inserted != len(plays):
        raise RuntimeError("plays were written by another writer during record_plays")
    items = _BATCH_ITEMS.format(batch=_SQLITE_BATCH, **_KINDS)
    await driver.execute(_GROUP_SQLITE_DAYS.format(items=items))
    days = f"SELECT * FROM {_SQLITE_DAYS}"
    await driver.execute(_add_into("play_days", _SQLITE_DAYS, grouped=True))
    if not await _count_in_periods(session, days, []):
        await driver.execute(_add_into("play_totals", days, grouped=False))
    for table in (_SQLITE_BATCH, _SQLITE_DAYS):
        await driver.execute(f"DELETE FROM {table}")
    return inserted


async def _count_in_periods(session: AsyncSession, items: str, columns: list[list[Any]]) -> bool:
    """The batch into `play_totals` and the per-guild play boards (bot/store/guild_plays.py),
    once those exist: the delta's all-time rows are the batch grouped as `play_totals` wants
    it, so they are added from there rather than grouped twice. False: no boards yet, the
    caller adds the totals."""
    end = await guild_plays.window_day(session)
    if end is None:
        return False
    await guild_plays.prepare_delta(session)
    _, driver = await _driver(session)
    await driver.execute(guild_plays.batch_delta_sql(items, end), *columns)
    await driver.execute(_TOTALS_FROM_DELTA)
    await guild_plays.apply_delta(session, removes=False)
    return True
