"""The hot statements of `record_plays`, straight to the driver inside the session's transaction.

An import stores tens of thousands of plays a second, each adding about seven aggregate rows;
binding that many rows through SQLAlchemy costs more than the database does. So checked plays
go to the driver as tuples once, into a temporary table on SQLite (`executemany`) or as arrays
on PostgreSQL (`unnest`), and the insert into `plays` and the grouping into the aggregates run
as a few set statements in the database. Times are bound in the format SQLAlchemy stores on
SQLite (`UTCDateTime`), so both paths read and compare the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import guild_plays

PlayKey = tuple[int, int, datetime, int]
"""(discord_user_id, track_item_id, started_at, ms_played)"""
PlayValues = tuple[int, datetime, int, int, int]
"""(discord_user_id, started_at, track_item_id, ms_played, source)"""


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
_ADD_DAYS = """
INSERT INTO play_days (discord_user_id, kind, day, item_id, plays, ms_played)
SELECT discord_user_id, kind, day, item_id, COUNT(*), SUM(ms_played) FROM ({items}) AS i
WHERE TRUE GROUP BY discord_user_id, kind, day, item_id
ON CONFLICT (discord_user_id, kind, day, item_id) DO UPDATE SET
plays = play_days.plays + excluded.plays, ms_played = play_days.ms_played + excluded.ms_played
"""
_ADD_TOTALS = """
INSERT INTO play_totals (discord_user_id, kind, item_id, plays, ms_played)
SELECT discord_user_id, kind, item_id, COUNT(*), SUM(ms_played) FROM ({items}) AS i
WHERE TRUE GROUP BY discord_user_id, kind, item_id
ON CONFLICT (discord_user_id, kind, item_id) DO UPDATE SET
plays = play_totals.plays + excluded.plays,
ms_played = play_totals.ms_played + excluded.ms_played
"""
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
_FILL_SQLITE_BATCH = (
    f"INSERT INTO {_SQLITE_BATCH} VALUES (?1, printf('%s.%06d',"
    " strftime('%Y-%m-%d %H:%M:%S', ?2 / 1000000, 'unixepoch'), ?2 % 1000000), ?3, ?4, ?5,"
    " ?2 / 86400000000)"
)
"""A play's start goes in as microseconds since 1970 and SQLite writes it as `sqlite_time`
would (and its day number): formatting times is most of what binding a batch costs in Python."""

_INSERT_PLAYS = (
    "INSERT INTO plays (discord_user_id, started_at, track_item_id, ms_played, source)"
    " SELECT discord_user_id, started_at, track_item_id, ms_played, source FROM {source}"
    " WHERE TRUE ON CONFLICT DO NOTHING"
)


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
            items = _BATCH_ITEMS.format(batch=_PG_BATCH, **_KINDS)
            columns = [list(column) for column in zip(*batch, strict=True)]
            await driver.execute(_ADD_DAYS.format(items=items), *columns)
            await driver.execute(_ADD_TOTALS.format(items=items), *columns)
            await _count_in_periods(session, items, columns)
        return len(rows)
    await driver.execute(
        "CREATE TEMP TABLE IF NOT EXISTS play_batch (discord_user_id INTEGER, started_at TEXT,"
        " track_item_id INTEGER, ms_played INTEGER, source INTEGER, day INTEGER)"
    )
    await driver.execute(f"DELETE FROM {_SQLITE_BATCH}")
    await driver.executemany(
        _FILL_SQLITE_BATCH,
        [
            (user, (started - _EPOCH) // _MICROSECOND, track, ms, source)
            for user, started, track, ms, source in plays
        ],
    )
    cursor = await driver.execute(_INSERT_PLAYS.format(source=_SQLITE_BATCH))
    inserted = cursor.rowcount
    await cursor.close()
    if inserted != len(plays):
        raise RuntimeError("plays were written by another writer during record_plays")
    items = _BATCH_ITEMS.format(batch=_SQLITE_BATCH, **_KINDS)
    await driver.execute(_ADD_DAYS.format(items=items))
    await driver.execute(_ADD_TOTALS.format(items=items))
    await _count_in_periods(session, items, [])
    await driver.execute(f"DELETE FROM {_SQLITE_BATCH}")
    return inserted


async def _count_in_periods(session: AsyncSession, items: str, columns: list[list[Any]]) -> None:
    """The batch into the per-guild play boards (bot/store/guild_plays.py), once they exist."""
    end = await guild_plays.window_day(session)
    if end is None:
        return
    await guild_plays.prepare_delta(session)
    _, driver = await _driver(session)
    await driver.execute(guild_plays.batch_delta_sql(items, end), *columns)
    await guild_plays.apply_delta(session, removes=False)
