"""The hot statements of `record_plays`, straight to the driver inside the session's transaction.

An import stores tens of thousands of plays a second, each adding about seven aggregate rows;
binding that many rows through SQLAlchemy costs more than the database does. So plays and
aggregate increments go to the driver as tuples: on SQLite `executemany` (and multi-row
VALUES ... RETURNING for the plays), on PostgreSQL one statement per batch over `unnest` of
arrays. Times are bound in the format SQLAlchemy stores on SQLite (`UTCDateTime`), so both
paths read and compare the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

PlayKey = tuple[int, int, datetime, int]
"""(discord_user_id, track_item_id, started_at, ms_played)"""
PlayValues = tuple[int, datetime, int, int, int]
"""(discord_user_id, started_at, track_item_id, ms_played, source)"""
DayRow = tuple[int, int, int, int, int, int]
"""(discord_user_id, kind, day, item_id, plays, ms_played)"""
TotalRow = tuple[int, int, int, int, int]
"""(discord_user_id, kind, item_id, plays, ms_played)"""

SQLITE_ROWS_PER_INSERT = 5_000  # 5 parameters each, under SQLite's 32,766


async def _driver(session: AsyncSession) -> tuple[str, Any]:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return connection.dialect.name, raw.driver_connection


def sqlite_time(moment: datetime) -> str:
    """`moment` as SQLAlchemy's SQLite DATETIME text (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


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


async def insert_plays(session: AsyncSession, plays: Sequence[PlayValues]) -> list[PlayKey]:
    """Insert plays, skipping any whose key is stored already; returns the ones inserted."""
    if not plays:
        return []
    dialect, driver = await _driver(session)
    if dialect == "postgresql":
        rows = await driver.fetch(
            "INSERT INTO plays (discord_user_id, started_at, track_item_id, ms_played, source)"
            " SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::int[],"
            " $5::smallint[]) ON CONFLICT DO NOTHING"
            f" RETURNING {_PLAYS_COLUMNS}",
            *(list(column) for column in zip(*plays, strict=True)),
        )
        return [(r[0], r[1], r[2].astimezone(UTC), r[3]) for r in rows]
    inserted: list[PlayKey] = []
    for start in range(0, len(plays), SQLITE_ROWS_PER_INSERT):
        part = plays[start : start + SQLITE_ROWS_PER_INSERT]
        values = ", ".join(["(?, ?, ?, ?, ?)"] * len(part))
        params: list[object] = []
        for user, started, track, ms, source in part:
            params += (user, sqlite_time(started), track, ms, source)
        cursor = await driver.execute(
            "INSERT INTO plays (discord_user_id, started_at, track_item_id, ms_played, source)"
            f" VALUES {values} ON CONFLICT DO NOTHING RETURNING {_PLAYS_COLUMNS}",
            params,
        )
        rows = await cursor.fetchall()
        await cursor.close()
        inserted.extend((r[0], r[1], _parse_sqlite_time(r[2]), r[3]) for r in rows)
    return inserted


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


async def aggregate_plays(session: AsyncSession, plays: Sequence[PlayKey]) -> None:
    """Count just-inserted plays into `play_days` and `play_totals`: once for the track, once
    for its album, once per credited artist (as `catalog_tracks` and `track_artists` say now).
    The grouping runs in the database; only the plays cross over."""
    if not plays:
        return
    dialect, driver = await _driver(session)
    rows = [
        (user, track, int(started.timestamp() // 86_400), ms) for user, track, started, ms in plays
    ]
    if dialect == "postgresql":
        items = _BATCH_ITEMS.format(batch=_PG_BATCH, **_KINDS)
        columns = [list(column) for column in zip(*rows, strict=True)]
        await driver.execute(_ADD_DAYS.format(items=items), *columns)
        await driver.execute(_ADD_TOTALS.format(items=items), *columns)
        return
    await driver.execute(
        "CREATE TEMP TABLE IF NOT EXISTS play_batch (discord_user_id INTEGER,"
        " track_item_id INTEGER, day INTEGER, ms_played INTEGER)"
    )
    await driver.execute(f"DELETE FROM {_SQLITE_BATCH}")
    await driver.executemany(f"INSERT INTO {_SQLITE_BATCH} VALUES (?, ?, ?, ?)", rows)
    items = _BATCH_ITEMS.format(batch=_SQLITE_BATCH, **_KINDS)
    await driver.execute(_ADD_DAYS.format(items=items))
    await driver.execute(_ADD_TOTALS.format(items=items))
    await driver.execute(f"DELETE FROM {_SQLITE_BATCH}")
