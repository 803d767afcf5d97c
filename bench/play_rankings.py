"""Benchmark: rankings by plays (/leaderboard and /whoknows by plays) over one guild.

The rankings read the per-guild play boards of bot/store/guild_plays.py
(`guild_play_periods`, `user_play_periods`, `guild_play_members`), kept from the per-user
aggregates (`play_days`, `play_totals`). Data: M members in one guild, D days of P plays a day
each, every member playing their own taste of tracks from a shared catalog with a Zipf-like
popularity. The per-user aggregates are generated straight into `play_days` / `play_totals`
in bulk (on SQLite drawn in Python and inserted with executemany; on PostgreSQL drawn by the
server in SQL with generate_series, `fill_postgres`; exactly the rows `record_plays` would
derive from such plays: one row per member, kind, day and item), with their secondary indexes
made afterwards; the per-guild tables are then built by `guild_plays.rebuild` (set-based SQL
over those tables), not through `record_plays`. Raw `plays` are not generated for the members:
their size per million plays is measured on a sample of 200,000 raw rows. The maintenance
figure does go through `record_plays`: one more day of P plays for every member, in batches of
200 plays (--day-batch), keeping every aggregate current; on PostgreSQL it is the database's own
time (`pg_stat_database.active_time`), on SQLite the wall clock (SQLite runs in the process).

Prints the median over --repeat runs of: /leaderboard artists|tracks|albums for each period,
page 1 and a deep page; /whoknows for a popular and a rare artist, track and album in each
period; a daily rollover of the windows; the day of plays; the size per million plays.

    .venv/bin/python bench/play_rankings.py --db sqlite --members 100 --days 90
    .venv/bin/python bench/play_rankings.py --db sqlite --members 1000 --days 365
    .venv/bin/python bench/play_rankings.py --db postgresql --members 2000 --days 365
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import accumulate
from typing import Any

from harness import analyze, on_databases
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.db.models import (
    CatalogItem,
    CatalogName,
    CatalogTrack,
    GuildMember,
    PlayDay,
    PlayTotal,
    TrackArtist,
)
from bot.domain import ItemKind, Period, PlayIn, PlaySource
from bot.store import guild_plays
from bot.store.play_catalog import album_key, artist_key, track_key
from bot.store.play_rankings import guild_board, item_listeners
from bot.store.play_writes import sqlite_time
from bot.store.plays import day_number, record_plays

GUILD = 1
FIRST_MEMBER = 10**17
TARGET_MS = 50.0
TARGET_DAY_SECONDS = 5.0
ARTIST, TRACK, ALBUM = int(ItemKind.ARTIST), int(ItemKind.TRACK), int(ItemKind.ALBUM)
CHUNK = 5_000
RAW_SAMPLE = 200_000
PER_USER = ("play_days", "play_totals")
PER_GUILD = ("user_play_periods", "guild_play_periods", "guild_play_members")
DAY_COLUMNS = ["discord_user_id", "kind", "day", "item_id", "plays", "ms_played"]
TOTAL_COLUMNS = ["discord_user_id", "kind", "item_id", "plays", "ms_played"]
PLAY_COLUMNS = ["discord_user_id", "started_at", "track_item_id", "ms_played", "source"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--plays-per-day", type=int, default=30)
    parser.add_argument("--tracks", type=int, default=20_000)
    parser.add_argument("--taste", type=int, default=400, help="tracks each member plays")
    parser.add_argument(
        "--day-batch",
        type=int,
        default=200,
        help="plays per record_plays call in the day of plays (the whole day: --day-batch 0)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


class Catalog:
    """Track t is by artist t % artists and on album t // 10; ids are catalog ids."""

    def __init__(self, tracks: int) -> None:
        self.tracks = tracks
        self.artists = max(tracks // 8, 1)
        self.albums = (tracks + 9) // 10
        self.first_track = 1
        self.first_artist = self.first_track + tracks
        self.first_album = self.first_artist + self.artists

    def track(self, t: int) -> int:
        return self.first_track + t

    def artist(self, t: int) -> int:
        return self.first_artist + t % self.artists

    def album(self, t: int) -> int:
        return self.first_album + t // 10

    def rows(self, now: datetime) -> Iterator[dict[str, Any]]:
        def row(item_id: int, kind: int, name: str) -> dict[str, Any]:
            return {
                "id": item_id,
                "kind": kind,
                "spotify_id": f"bench{kind}x{item_id}",
                "name": name,
                "subtitle": None,
                "image_url": None,
                "album_spotify_id": None,
                "artist_spotify_ids": None,
                "updated_at": now,
            }

        for t in range(self.tracks):
            yield row(self.track(t), TRACK, f"Track {t}")
        for a in range(self.artists):
            yield row(self.first_artist + a, ARTIST, f"Artist {a}")
        for b in range(self.albums):
            yield row(self.first_album + b, ALBUM, f"Album {b}")

    def names(self) -> Iterator[dict[str, Any]]:
        """The name keys `record_plays` registers for these items, so that plays given by
        name (as `one_more_day`'s are) find them as in a catalog grown by recording."""
        keys: dict[tuple[int, str], int] = {}
        for t in range(self.tracks):
            title, artist = f"Track {t}", f"Artist {t % self.artists}"
            keys[(TRACK, track_key(title, artist))] = self.track(t)
            keys[(ARTIST, artist_key(artist))] = self.artist(t)
            keys[(ALBUM, album_key(f"Album {t // 10}", artist))] = self.album(t)
        for (kind, key), item_id in keys.items():
            yield {"kind": kind, "name_key": key, "item_id": item_id}


def chunked(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def bulk(
    connection: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Rows into a table through the driver: COPY on PostgreSQL, executemany on SQLite."""
    raw = (await connection.get_raw_connection()).driver_connection
    if connection.dialect.name == "postgresql":
        await raw.copy_records_to_table(table, records=rows, columns=columns)
        return
    marks = ", ".join("?" * len(columns))
    await raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def secondary_indexes() -> list[Any]:
    return [index for model in (PlayDay, PlayTotal) for index in model.__table__.indexes]  # type: ignore[attr-defined]


PG_TASTE = """
CREATE TEMP TABLE bench_taste AS
SELECT m, n, LEAST(floor(10 * exp(random() * ln(({tracks} + 10) / 10.0)) - 10)::int,
                   {tracks} - 1) AS t
FROM generate_series(0, {members} - 1) AS m, generate_series(0, {taste} - 1) AS n
"""
PG_DAYS = """
INSERT INTO play_days (discord_user_id, kind, day, item_id, plays, ms_played)
SELECT {first_member} + x.m, v.kind, x.day, v.item, COUNT(*), COUNT(*) * 200000
FROM (SELECT p.m, p.day, ta.t
      FROM (SELECT m, day,
                   LEAST(floor(3 * exp(random() * ln(({taste} + 3) / 3.0)) - 3)::int,
                         {taste} - 1) AS n
            FROM generate_series({low}, {high} - 1) AS m,
                 generate_series({first_day}, {today}) AS day,
                 generate_series(1, {per_day}) AS k) AS p
      JOIN bench_taste ta ON ta.m = p.m AND ta.n = p.n) AS x
CROSS JOIN LATERAL (VALUES ({track}, {first_track} + x.t),
                           ({artist}, {first_artist} + x.t % {artists}),
                           ({album}, {first_album} + x.t / 10)) AS v(kind, item)
GROUP BY x.m, v.kind, x.day, v.item
"""
"""The same data as `fill` draws in Python, drawn by the server: a member's taste from a
Zipf-like popularity 1/(t + 10) and each play from their taste by 1/(n + 3), through the
inverse of those weights' continuous distribution functions."""
PG_TOTALS = """
INSERT INTO play_totals (discord_user_id, kind, item_id, plays, ms_played)
SELECT discord_user_id, kind, item_id, SUM(plays), SUM(ms_played) FROM play_days
WHERE discord_user_id >= {low} AND discord_user_id < {high}
GROUP BY discord_user_id, kind, item_id
"""
PG_MEMBERS_PER_STATEMENT = 100


async def fill_postgres(
    engine: AsyncEngine, args: argparse.Namespace, catalog: Catalog
) -> tuple[int, int]:
    """`fill`'s per-user aggregates generated by SQL on the server (generate_series),
    PG_MEMBERS_PER_STATEMENT members at a time: minutes instead of an hour at 2,000 x 365."""
    today = day_number(datetime.now(UTC))
    shape = {
        "tracks": catalog.tracks,
        "members": args.members,
        "taste": args.taste,
        "per_day": args.plays_per_day,
        "first_member": FIRST_MEMBER,
        "first_day": today - args.days + 1,
        "today": today,
        "track": TRACK,
        "artist": ARTIST,
        "album": ALBUM,
        "first_track": catalog.first_track,
        "first_artist": catalog.first_artist,
        "artists": catalog.artists,
        "first_album": catalog.first_album,
    }
    started = time.perf_counter()
    async with engine.begin() as connection:
        await connection.exec_driver_sql("SET work_mem = '256MB'")
        # the rows reference the catalog just inserted: no foreign-key trigger per row
        await connection.exec_driver_sql("SET session_replication_role = replica")
        await connection.exec_driver_sql(f"SELECT setseed({1 / (args.seed + 1)})")
        await connection.exec_driver_sql(PG_TASTE.format(**shape))
        await connection.exec_driver_sql("CREATE INDEX ON bench_taste (m, n)")
        for low in range(0, args.members, PG_MEMBERS_PER_STATEMENT):
            high = min(low + PG_MEMBERS_PER_STATEMENT, args.members)
            await connection.exec_driver_sql(PG_DAYS.format(low=low, high=high, **shape))
            await connection.exec_driver_sql(
                PG_TOTALS.format(low=FIRST_MEMBER + low, high=FIRST_MEMBER + high)
            )
            print(
                f"  generated {high}/{args.members} members"
                f" ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        rows = sum(
            [
                int(await connection.scalar(text(f"SELECT COUNT(*) FROM {table}")) or 0)
                for table in PER_USER
            ]
        )
    return args.members * args.days * args.plays_per_day, rows


async def fill(
    engine: AsyncEngine, args: argparse.Namespace, catalog: Catalog, rng: random.Random
) -> tuple[int, int]:
    """Catalog, members and per-user aggregates; returns (plays represented, aggregate rows)."""
    now = datetime.now(UTC)
    today = day_number(now)
    popularity = list(accumulate(1 / (n + 10) for n in range(catalog.tracks)))
    async with engine.begin() as connection:
        for batch in chunked(catalog.rows(now)):
            await connection.execute(insert(CatalogItem), batch)
        for batch in chunked(catalog.names()):
            await connection.execute(insert(CatalogName), batch)
        for batch in chunked(
            {"item_id": catalog.track(t), "album_item_id": catalog.album(t), "duration_ms": 200_000}
            for t in range(catalog.tracks)
        ):
            await connection.execute(insert(CatalogTrack), batch)
        for batch in chunked(
            {"track_item_id": catalog.track(t), "position": 0, "artist_item_id": catalog.artist(t)}
            for t in range(catalog.tracks)
        ):
            await connection.execute(insert(TrackArtist), batch)
        await connection.execute(
            insert(GuildMember),
            [
                {"guild_id": GUILD, "discord_user_id": FIRST_MEMBER + m, "seen_at": now}
                for m in range(args.members)
            ],
        )
        for index in secondary_indexes():
            await connection.run_sync(index.drop)
    if engine.dialect.name == "postgresql":
        plays, rows = await fill_postgres(engine, args, catalog)
        async with engine.begin() as connection:
            for index in secondary_indexes():
                await connection.run_sync(index.create)
        return plays, rows
    plays = rows = 0
    days: list[tuple[int, ...]] = []
    totals_rows: list[tuple[int, ...]] = []
    for m in range(args.members):
        user = FIRST_MEMBER + m
        taste = rng.choices(range(catalog.tracks), cum_weights=popularity, k=args.taste)
        taste_weights = list(accumulate(1 / (n + 3) for n in range(len(taste))))
        totals: Counter[tuple[int, int]] = Counter()
        for day in range(today - args.days + 1, today + 1):
            tracks = Counter(rng.choices(taste, cum_weights=taste_weights, k=args.plays_per_day))
            per_item: Counter[tuple[int, int]] = Counter()
            for t, count in tracks.items():
                per_item[(TRACK, catalog.track(t))] += count
                per_item[(ARTIST, catalog.artist(t))] += count
                per_item[(ALBUM, catalog.album(t))] += count
            days.extend(
                (user, kind, day, item, count, count * 200_000)
                for (kind, item), count in sorted(per_item.items())
            )
            totals.update(per_item)
            plays += args.plays_per_day
        totals_rows.extend(
            (user, kind, item, count, count * 200_000)
            for (kind, item), count in sorted(totals.items())
        )
        if len(days) >= 500_000 or m == args.members - 1:
            async with engine.begin() as connection:
                await bulk(connection, "play_days", DAY_COLUMNS, days)
                await bulk(connection, "play_totals", TOTAL_COLUMNS, totals_rows)
            rows += len(days) + len(totals_rows)
            days, totals_rows = [], []
        if (m + 1) % max(args.members // 10, 1) == 0:
            print(f"  generated {m + 1}/{args.members} members", flush=True)
    async with engine.begin() as connection:
        for index in secondary_indexes():
            await connection.run_sync(index.create)
    return plays, rows


async def raw_sample(engine: AsyncEngine, catalog: Catalog, rng: random.Random) -> None:
    """RAW_SAMPLE raw plays of members outside the guild, to measure their size."""
    start = datetime.now(UTC) - timedelta(days=365)
    rows: list[tuple[Any, ...]] = []
    for n in range(RAW_SAMPLE):
        started = start + timedelta(seconds=n * 157)
        rows.append(
            (
                2 * FIRST_MEMBER + n % 100,
                started if engine.dialect.name == "postgresql" else sqlite_time(started),
                catalog.track(rng.randrange(catalog.tracks)),
                200_000,
                int(PlaySource.IMPORT),
            )
        )
    async with engine.begin() as connection:
        for part in range(0, len(rows), 50_000):
            await bulk(connection, "plays", PLAY_COLUMNS, rows[part : part + 50_000])


async def build_boards(sessions: async_sessionmaker[Any], engine: AsyncEngine) -> float:
    started = time.perf_counter()
    async with session_scope(sessions, shared_writes=True) as session:
        if engine.dialect.name == "postgresql":
            await session.execute(text("SET LOCAL work_mem = '256MB'"))
        await guild_plays.rebuild(session, guild_plays.today_number())
    return time.perf_counter() - started


async def median_ms(
    sessions: async_sessionmaker[Any], call: Callable[[Any], Awaitable[object]], repeat: int
) -> float:
    times = []
    for _ in range(repeat):
        async with sessions() as session:
            started = time.perf_counter()
            await call(session)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def board_page(session: Any, *, kind: ItemKind, period: Period, offset: int) -> object:
    return await guild_board(session, GUILD, kind, period, offset, 10)


async def who_knows(session: Any, *, kind: ItemKind, item_id: int, period: Period) -> object:
    return await item_listeners(session, GUILD, kind, item_id, period)


def verdict(ms: float) -> str:
    return "ok" if ms <= TARGET_MS else "OVER"


async def measure(sessions: async_sessionmaker[Any], args: argparse.Namespace) -> None:
    worst = 0.0
    for kind in (ItemKind.ARTIST, ItemKind.TRACK, ItemKind.ALBUM):
        for period in Period:
            async with sessions() as session:
                total = (await guild_board(session, GUILD, kind, period, 0, 1)).total_items
            deep = max(total - 10, 0) // 2
            for label, offset in (("page 1", 0), (f"offset {deep}", deep)):
                ms = await median_ms(
                    sessions,
                    partial(board_page, kind=kind, period=period, offset=offset),
                    args.repeat,
                )
                worst = max(worst, ms)
                print(
                    f"  /leaderboard {kind.name.lower():6} {period.value:5} {label:13} "
                    f"({total:,} items): {ms:7.1f} ms  {verdict(ms)}",
                    flush=True,
                )
            if period is Period.MONTH:
                async with sessions() as session:
                    board = await guild_board(session, GUILD, kind, Period.ALL, 0, 1)
                    last = await guild_board(session, GUILD, kind, Period.ALL, max(total - 1, 0), 1)
                for label, entries in (("popular", board.entries), ("rare", last.entries)):
                    if not entries:
                        continue
                    item = entries[0].item.item_id
                    for each in Period:
                        ms = await median_ms(
                            sessions,
                            partial(who_knows, kind=kind, item_id=item, period=each),
                            args.repeat,
                        )
                        worst = max(worst, ms)
                        print(
                            f"  /whoknows    {kind.name.lower():6} {label:7} {each.value:5}: "
                            f"{ms:7.1f} ms  {verdict(ms)}",
                            flush=True,
                        )
    print(f"  slowest median: {worst:.1f} ms (target <= {TARGET_MS:.0f} ms)", flush=True)


async def database_seconds(engine: AsyncEngine) -> float | None:
    """PostgreSQL's time spent executing statements in this database so far
    (`pg_stat_database.active_time`), once the pool's sessions have ended and reported it;
    None on SQLite, which runs inside this process (there the wall clock is the figure)."""
    if engine.dialect.name != "postgresql":
        return None
    await engine.dispose()
    async with engine.connect() as connection:
        value = await connection.scalar(
            text("SELECT active_time FROM pg_stat_database WHERE datname = current_database()")
        )
    return float(value) / 1000


async def one_more_day(engine: AsyncEngine, args: argparse.Namespace, rng: random.Random) -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    day = [
        PlayIn(
            discord_user_id=FIRST_MEMBER + m,
            started_at=start + timedelta(minutes=4 * k),
            ms_played=200_000,
            source=PlaySource.PRESENCE,
            track_name=f"Track {t}",
            artist_names=(f"Artist {t % max(args.tracks // 8, 1)}",),
            album_name=f"Album {t // 10}",
            track_id=f"bench{TRACK}x{1 + t}",
            duration_ms=200_000,
        )
        for k in range(args.plays_per_day)
        for m in range(args.members)
        for t in [rng.randrange(args.tracks)]
    ]
    sessions = make_session_factory(engine)
    database_before = await database_seconds(engine)
    started = time.perf_counter()
    batch = args.day_batch or len(day)
    for i in range(0, len(day), batch):
        async with session_scope(sessions, shared_writes=True) as session:
            await record_plays(session, day[i : i + batch])
    wall = seconds = time.perf_counter() - started
    database_after = await database_seconds(engine)
    if database_before is not None and database_after is not None:
        seconds = database_after - database_before
        measured = f"{seconds:.2f} s of PostgreSQL time (active_time), {wall:.2f} s wall"
    else:
        measured = f"{seconds:.2f} s wall, nearly all of it in SQLite"
    scaled = seconds * 60_000 / len(day)
    print(
        f"  a day of plays for every member through record_plays ({len(day):,} plays, "
        f"batches of {batch:,}): {measured}; scaled to 60k: {scaled:.1f} s "
        f"(target <= {TARGET_DAY_SECONDS:.0f} s of database time: "
        f"{'ok' if scaled <= TARGET_DAY_SECONDS else 'OVER'})",
        flush=True,
    )


async def rollover(sessions: async_sessionmaker[Any]) -> float:
    """One daily rollover: the windows set back a day, then rolled to today (the week, month
    and year each lose the day that leaves them)."""
    today = guild_plays.today_number()
    async with session_scope(sessions, shared_writes=True) as session:
        await session.execute(
            text("UPDATE bot_state SET value = :day WHERE key = :key"),
            {"day": str(today - 1), "key": guild_plays.STATE_KEY},
        )
    started = time.perf_counter()
    async with session_scope(sessions, shared_writes=True) as session:
        await guild_plays.roll_periods(session, today)
    return time.perf_counter() - started


async def table_bytes(engine: AsyncEngine, tables: tuple[str, ...]) -> int:
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            return sum(
                [
                    int(await connection.scalar(text(f"SELECT pg_total_relation_size('{t}')")) or 0)
                    for t in tables
                ]
            )
        quoted = ", ".join(f"'{t}'" for t in tables)
        names = await connection.execute(
            text(f"SELECT name FROM sqlite_master WHERE tbl_name IN ({quoted})")
        )
        listed = ", ".join(f"'{n}'" for n in {*tables, *(r[0] for r in names)})
        return int(
            await connection.scalar(
                text(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({listed})")
            )
            or 0
        )


async def print_sizes(engine: AsyncEngine, plays: int) -> None:
    million = 2**20 / 1_000_000
    per_user = await table_bytes(engine, PER_USER) / plays / million
    per_guild = await table_bytes(engine, PER_GUILD) / plays / million
    raw = await table_bytes(engine, ("plays",)) / RAW_SAMPLE / million
    print(
        f"  size per million plays: raw plays {raw:,.0f} MB (from {RAW_SAMPLE:,} sampled rows),"
        f" per-user aggregates {per_user:,.0f} MB, per-guild boards {per_guild:,.0f} MB;"
        f" raw + aggregates {raw + per_user + per_guild:,.0f} MB",
        flush=True,
    )


async def run_backend(url: str, args: argparse.Namespace) -> None:
    print(f"\n== {make_url(url).get_backend_name()} ==", flush=True)
    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = make_session_factory(engine)
    rng = random.Random(args.seed)
    catalog = Catalog(args.tracks)
    try:
        started = time.perf_counter()
        plays, rows = await fill(engine, args, catalog, rng)
        print(
            f"  data: {args.members:,} members x {args.days} days x {args.plays_per_day} plays "
            f"= {plays:,} plays as {rows:,} per-user aggregate rows "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        await raw_sample(engine, catalog, rng)
        seconds = await build_boards(sessions, engine)
        print(f"  per-guild boards built by guild_plays.rebuild: {seconds:.0f} s", flush=True)
        await analyze(engine)
        await print_sizes(engine, plays)
        await measure(sessions, args)
        print(f"  daily rollover of the windows: {await rollover(sessions):.2f} s", flush=True)
        await one_more_day(engine, args, rng)
    finally:
        await engine.dispose()


async def main() -> None:
    args = parse_args()
    await on_databases(args.db, lambda url: run_backend(url, args))


if __name__ == "__main__":
    asyncio.run(main())
