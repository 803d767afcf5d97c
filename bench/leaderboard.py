"""Benchmark: leaderboard and who-knows at 10,000 linked, visible members in one guild.

Builds the data set with bulk inserts (driver executemany on SQLite, COPY on PostgreSQL):
every member has all 3 ranges x 2 kinds x 50 items (3,000,000 top_items rows at 10,000
members), drawn with a Zipf-like popularity so a few artists are everywhere and most are rare.
The guild's scores are then built with `rebuild_guild_scores` and a handful of snapshots is
replaced through `replace_snapshot` (incremental upkeep). Then it times N service calls of:

- leaderboard of artists, page 1, the last page and the middle one (pages in the second half
  are read from the end, so the middle page is the dearest);
- who-knows of the most popular and of a rare artist;

against the target (median <= 50 ms), plus, for information, a leaderboard of tracks,
artist autocomplete, compatibility and recommendations. PostgreSQL runs on a database created
(and dropped) on the server at ENCORE_TEST_POSTGRES_URL.

    .venv/bin/python bench/leaderboard.py                       # both, 10,000 members
    .venv/bin/python bench/leaderboard.py --db sqlite --members 2000 --calls 50
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import asyncpg
from harness import StoredLists, batches, throwaway_postgres
from sqlalchemy import func, select
from sqlalchemy import table as table_clause
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.db.models import Base, CatalogItem, GuildItemScore
from bot.domain import ItemKind, LinkStatus, TimeRange
from bot.services.access import Subject
from bot.services.community import CommunityService
from bot.services.items import ItemSummary
from bot.store.snapshots import read_snapshot, replace_snapshot

GUILD_ID = 4242
FIRST_MEMBER_ID = 10**17
LIST_LENGTH = 50
TARGET_MS = 50.0
BULK_BATCH = 50_000
RANGE_NAME = TimeRange.MEDIUM
RANGES = (TimeRange.SHORT, TimeRange.MEDIUM, TimeRange.LONG)
KINDS = (ItemKind.ARTIST, ItemKind.TRACK)


@dataclass(frozen=True)
class Options:
    members: int
    calls: int
    backends: list[str]
    seed: int
    artists: int
    tracks: int


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200, help="timed calls per operation")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    artists = max(args.members * 2, 500)
    return Options(args.members, args.calls, backends, args.seed, artists, artists * 5)


# --- data set -----------------------------------------------------------------------------


class Popularity:
    """Draws distinct item numbers with probability ~ 1 / (n + 10)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self._cumulative = list(accumulate(1 / (n + 10) for n in range(size)))
        self._rng = rng

    def draw(self, count: int) -> list[int]:
        total = self._cumulative[-1]
        chosen: dict[int, None] = {}
        while len(chosen) < count:
            point = self._rng.random() * total
            chosen.setdefault(bisect.bisect_left(self._cumulative, point), None)
        return list(chosen)


def member_ids(options: Options) -> range:
    return range(FIRST_MEMBER_ID, FIRST_MEMBER_ID + options.members)


def catalog_rows(options: Options, now: datetime) -> Iterator[tuple[Any, ...]]:
    """(id, kind, spotify_id, name, subtitle, image_url, updated_at); artist n has id n + 1."""
    for n in range(options.artists):
        yield (n + 1, int(ItemKind.ARTIST), f"a{n:021d}", f"Artist {n:06d}", None, None, now)
    for n in range(options.tracks):
        item_id = options.artists + n + 1
        yield (item_id, int(ItemKind.TRACK), f"t{n:021d}", f"Track {n:06d}", None, None, now)


def top_item_rows(options: Options) -> Iterator[tuple[int, int, int, int, int]]:
    """(discord_user_id, kind, time_range, rank, item_id) for every member's six lists."""
    rng = random.Random(options.seed)
    artists = Popularity(options.artists, rng)
    tracks = Popularity(options.tracks, rng)
    for user in member_ids(options):
        for time_range in RANGES:
            for rank, n in enumerate(artists.draw(LIST_LENGTH), start=1):
                yield user, int(ItemKind.ARTIST), int(time_range), rank, n + 1
            for rank, n in enumerate(tracks.draw(LIST_LENGTH), start=1):
                yield user, int(ItemKind.TRACK), int(time_range), rank, options.artists + n + 1


def link_rows(options: Options, now: datetime) -> Iterator[tuple[Any, ...]]:
    for user in member_ids(options):
        yield (
            user, f"acct{user}", f"user{user}", None, None, b"-", b"-",
            now + timedelta(hours=1), "user-top-read", now, now, LinkStatus.ACTIVE.value,
            now, None,
        )  # fmt: skip


def snapshot_rows(options: Options, now: datetime) -> Iterator[tuple[Any, ...]]:
    for index, user in enumerate(member_ids(options)):
        fetched_at = now - timedelta(minutes=index % 720)
        for kind in KINDS:
            for time_range in RANGES:
                yield user, int(kind), int(time_range), fetched_at, LIST_LENGTH


LINK_COLUMNS = (
    "discord_user_id", "spotify_account_id", "spotify_user_id", "display_name", "avatar_url",
    "access_token_enc", "refresh_token_enc", "access_expires_at", "scopes", "authorized_at",
    "linked_at", "status", "synced_at", "sync_due_at",
)  # fmt: skip
TABLES: dict[str, tuple[str, ...]] = {
    "catalog_items": (
        "id", "kind", "spotify_id", "name", "subtitle", "image_url", "updated_at",
    ),
    "spotify_links": LINK_COLUMNS,
    "guild_members": ("guild_id", "discord_user_id", "seen_at"),
    "top_snapshots": ("discord_user_id", "kind", "time_range", "fetched_at", "item_count"),
    "top_items": ("discord_user_id", "kind", "time_range", "rank", "item_id"),
}  # fmt: skip


def table_rows(options: Options, now: datetime) -> dict[str, Callable[[], Iterator[Any]]]:
    return {
        "catalog_items": lambda: catalog_rows(options, now),
        "spotify_links": lambda: link_rows(options, now),
        "guild_members": lambda: ((GUILD_ID, u, now) for u in member_ids(options)),
        "top_snapshots": lambda: snapshot_rows(options, now),
        "top_items": lambda: top_item_rows(options),
    }


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy itself stores on SQLite for these column types."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


async def bulk_load(engine: AsyncEngine, options: Options, now: datetime) -> None:
    """Straight to the driver: executemany on SQLite, COPY on PostgreSQL. The secondary
    indexes of top_items are dropped meanwhile and built once at the end."""
    indexes = list(Base.metadata.tables["top_items"].indexes)
    async with engine.connect() as connection:
        for index in indexes:
            await connection.run_sync(index.drop)
        await connection.commit()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        sources = table_rows(options, now)
        if engine.dialect.name == "postgresql":
            await _copy_postgres(raw, sources)
        else:
            await _insert_sqlite(raw, sources)
        for index in indexes:
            await connection.run_sync(index.create)
        await connection.commit()


async def _copy_postgres(raw: asyncpg.Connection, sources: dict[str, Any]) -> None:
    for table, columns in TABLES.items():
        for batch in batches(sources[table](), BULK_BATCH):
            await raw.copy_records_to_table(table, records=batch, columns=list(columns))


async def _insert_sqlite(raw: Any, sources: dict[str, Any]) -> None:
    for table, columns in TABLES.items():
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        for batch in batches(sources[table](), BULK_BATCH):
            await raw.executemany(sql, [tuple(map(_sqlite_value, row)) for row in batch])
    await raw.commit()


# --- timing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    name: str
    median_ms: float
    p95_ms: float
    target_ms: float | None

    def line(self) -> str:
        if self.target_ms is None:
            verdict = ""
        else:
            ok = "ok" if self.median_ms <= self.target_ms else "MISSED"
            verdict = f"median <= {self.target_ms:.0f} ms  {ok}"
        return f"  {self.name:<42} {self.median_ms:8.2f} {self.p95_ms:8.2f}   {verdict}"


async def timed(
    name: str, call: Callable[[], Awaitable[object]], calls: int, target_ms: float | None
) -> Timing:
    await call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing(name, statistics.median(samples), p95, target_ms)


async def _artist_by_listeners(
    sessions: async_sessionmaker[AsyncSession], *, most: bool
) -> tuple[str, int]:
    listeners = GuildItemScore.listeners
    async with sessions() as session:
        row = (
            await session.execute(
                select(CatalogItem.spotify_id, listeners)
                .join(GuildItemScore, GuildItemScore.item_id == CatalogItem.id)
                .where(
                    GuildItemScore.guild_id == GUILD_ID,
                    GuildItemScore.kind == int(ItemKind.ARTIST),
                    GuildItemScore.time_range == int(TimeRange.MEDIUM),
                )
                .order_by(listeners.desc() if most else listeners, CatalogItem.id)
                .limit(1)
            )
        ).one()
    return row[0], row[1]


async def _replace_some(
    sessions: async_sessionmaker[AsyncSession], options: Options, calls: int
) -> Timing:
    """Incremental upkeep: replace member lists with their own items reversed."""
    users = list(member_ids(options))[: max(1, calls)]
    samples = []
    for user in users:
        async with sessions() as session:
            stored = await read_snapshot(session, user, ItemKind.ARTIST, TimeRange.MEDIUM)
        assert stored is not None
        items: list[ItemSummary] = stored.items[::-1]
        started = time.perf_counter()
        async with session_scope(sessions) as session:
            await replace_snapshot(
                session, user, ItemKind.ARTIST, TimeRange.MEDIUM, items, datetime.now(UTC)
            )
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return Timing("replace_snapshot (with score upkeep)", statistics.median(samples), p95, None)


async def run_backend(url: str, options: Options) -> list[Timing]:
    print(f"\n== {make_url(url).get_backend_name()} ==", flush=True)
    started = time.perf_counter()
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        await bulk_load(engine, options, datetime.now(UTC))
        await _refresh_statistics(engine)
        print(f"  bulk load: {time.perf_counter() - started:.1f} s", flush=True)
        sessions = make_session_factory(engine)
        community = CommunityService(sessions, StoredLists())
        started = time.perf_counter()
        await community.rebuild_guild_scores(GUILD_ID)
        print(f"  rebuild_guild_scores: {time.perf_counter() - started:.1f} s", flush=True)
        await _refresh_statistics(engine)
        await _report_size(engine)
        return await _time_calls(sessions, community, options)
    finally:
        await engine.dispose()


async def _refresh_statistics(engine: AsyncEngine) -> None:
    """What autovacuum does in the background on a live PostgreSQL (planner statistics and
    the visibility map index-only scans rely on); ANALYZE on SQLite."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        vacuum = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        await autocommit.exec_driver_sql(vacuum)


async def _report_size(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        counts = {
            name: await _count(connection, table)
            for name, table in (
                ("top_items", "top_items"),
                ("visible linked members", "guild_members"),
                ("guild_item_scores", "guild_item_scores"),
            )
        }
    print("  " + ", ".join(f"{name}: {count:,}" for name, count in counts.items()), flush=True)


async def _count(connection: AsyncConnection, name: str) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table_clause(name))) or 0)


async def _time_calls(
    sessions: async_sessionmaker[AsyncSession], community: CommunityService, options: Options
) -> list[Timing]:
    first = await community.leaderboard(GUILD_ID, ItemKind.ARTIST, RANGE_NAME)
    deep_offset = max(first.total_items - 10, 0)
    middle_offset = first.total_items // 2 // 10 * 10
    popular, popular_count = await _artist_by_listeners(sessions, most=True)
    rare, rare_count = await _artist_by_listeners(sessions, most=False)
    calls = options.calls
    users = list(member_ids(options))
    timings = [
        await timed(
            "leaderboard artists, page 1",
            lambda: community.leaderboard(GUILD_ID, ItemKind.ARTIST, RANGE_NAME),
            calls,
            TARGET_MS,
        ),
        await timed(
            f"leaderboard artists, offset {deep_offset:,}",
            lambda: community.leaderboard(GUILD_ID, ItemKind.ARTIST, RANGE_NAME, deep_offset),
            calls,
            TARGET_MS,
        ),
        await timed(
            f"leaderboard artists, offset {middle_offset:,}",
            lambda: community.leaderboard(GUILD_ID, ItemKind.ARTIST, RANGE_NAME, middle_offset),
            calls,
            TARGET_MS,
        ),
        await timed(
            f"who_knows popular ({popular_count:,} listeners)",
            lambda: community.who_knows(GUILD_ID, popular, RANGE_NAME),
            calls,
            TARGET_MS,
        ),
        await timed(
            f"who_knows rare ({rare_count:,} listener)",
            lambda: community.who_knows(GUILD_ID, rare, RANGE_NAME),
            calls,
            TARGET_MS,
        ),
        await timed(
            "leaderboard tracks, page 1",
            lambda: community.leaderboard(GUILD_ID, ItemKind.TRACK, RANGE_NAME),
            calls,
            TARGET_MS,
        ),
        await timed(
            "known_artists 'artist 00012'",
            lambda: community.known_artists(GUILD_ID, "artist 00012"),
            calls,
            None,
        ),
        await timed(
            "compat",
            lambda: community.compat(Subject(users[1], invoker_id=users[0]), RANGE_NAME),
            calls,
            None,
        ),
        await timed(
            "recommend",
            lambda: community.recommend(GUILD_ID, Subject(users[2], users[2]), RANGE_NAME),
            max(3, calls // 20),
            None,
        ),
        await _replace_some(sessions, options, max(3, calls // 4)),
    ]
    print(f"  {'operation':<42} {'median':>8} {'p95':>8}   (ms, {calls} calls)")
    for timing in timings:
        print(timing.line())
    return timings


# --- databases ----------------------------------------------------------------------------


async def run_postgres(options: Options) -> list[Timing] | None:
    async with throwaway_postgres() as url:
        return None if url is None else await run_backend(url, options)


async def main() -> None:
    options = parse_args()
    print(
        f"{options.members:,} members x 3 ranges x 2 kinds x {LIST_LENGTH} items = "
        f"{options.members * 6 * LIST_LENGTH:,} top_items rows; "
        f"{options.artists:,} artists, {options.tracks:,} tracks in the catalog"
    )
    for backend in options.backends:
        if backend == "postgresql":
            await run_postgres(options)
            continue
        with tempfile.TemporaryDirectory(prefix="encore-bench-") as folder:
            await run_backend(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", options)


if __name__ == "__main__":
    asyncio.run(main())
