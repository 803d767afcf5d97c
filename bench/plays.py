"""Benchmark: storing plays through `record_plays`, and what they cost on disk.

Generates N plays for M members over one year (each member plays their own few thousand
tracks with a Zipf-like popularity, drawn from a catalog of T tracks by T/8 artists; a tenth
of the tracks known by name only, as the short "Account data" history gives them) and records
them the way an import does: one member's plays in time order, `--batch` plays per
`record_plays` call and transaction. Prints plays per second against the import target
(>= 50,000/s on SQLite) with the CPU time it took, the same for a second pass over the same
plays (all duplicates: a re-import), a day of presence plays for every member recorded in
batches of 200, and the database size per million plays: raw plays, aggregates, catalog.
PostgreSQL runs on a database created (and dropped) on the server at ENCORE_TEST_POSTGRES_URL.

    .venv/bin/python bench/plays.py                                  # both, 500,000 plays
    .venv/bin/python bench/plays.py --db sqlite --plays 2000000 --members 200
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from harness import throwaway_postgres
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.domain import PlayIn, PlaySource
from bot.store.plays import record_plays

FIRST_MEMBER_ID = 10**17
TARGET_PLAYS_PER_SECOND = 50_000
RAW = ("plays",)
AGGREGATES = ("play_days", "play_totals")
CATALOG = ("catalog_items", "catalog_tracks", "track_artists", "catalog_names")


@dataclass(frozen=True)
class Options:
    plays: int
    members: int
    tracks: int
    taste: int
    batch: int
    backends: list[str]
    seed: int


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--plays", type=int, default=500_000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--tracks", type=int, default=40_000)
    parser.add_argument("--taste", type=int, default=3_000, help="tracks drawn per member")
    parser.add_argument("--batch", type=int, default=20_000, help="plays per record_plays call")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    return Options(
        args.plays, args.members, args.tracks, args.taste, args.batch, backends, args.seed
    )


@dataclass(frozen=True)
class Track:
    title: str
    artists: tuple[str, ...]
    album: str | None
    spotify_id: str | None
    duration_ms: int


def base62(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(rng.choice(alphabet) for _ in range(22))


def make_catalog(count: int, rng: random.Random) -> list[Track]:
    """Tracks in popularity order; an artist's 8 tracks are neighbours in it, an album's 10,
    and every fifth track features a second artist drawn at random."""
    artists = [f"Artist {n}" for n in range(max(count // 8, 1))]
    tracks = []
    for n in range(count):
        credits = (artists[n // 8],) + ((rng.choice(artists),) if n % 5 == 0 else ())
        tracks.append(
            Track(
                title=f"Track {n}",
                artists=credits,
                album=f"Album {n // 10}" if n % 10 else None,
                spotify_id=None if n % 10 == 0 else base62(rng),
                duration_ms=rng.randint(120_000, 300_000),
            )
        )
    return tracks


def member_plays(
    user: int,
    count: int,
    catalog: Sequence[Track],
    weights: list[float],
    taste: int,
    rng: random.Random,
) -> list[PlayIn]:
    """`count` plays of one member over the year before now, in time order, drawn with the
    same Zipf-like popularity from the member's own `taste` tracks (people repeat
    themselves), which are drawn from the whole catalog by popularity."""
    start = datetime.now(UTC) - timedelta(days=365)
    own = list(dict.fromkeys(rng.choices(catalog, cum_weights=weights, k=taste)))
    own_weights = list(accumulate(1 / (n + 10) for n in range(len(own))))
    gaps = [rng.random() for _ in range(count)]
    scale = 365 * 86_400 / sum(gaps)
    moment = start
    plays = []
    for gap, track in zip(gaps, rng.choices(own, cum_weights=own_weights, k=count), strict=True):
        moment += timedelta(seconds=max(gap * scale, track.duration_ms / 1000))
        plays.append(
            PlayIn(
                discord_user_id=user,
                started_at=moment,
                ms_played=track.duration_ms - rng.randint(0, 30_000),
                source=PlaySource.IMPORT,
                track_name=track.title,
                artist_names=track.artists,
                album_name=track.album,
                track_id=track.spotify_id,
                duration_ms=track.duration_ms if track.spotify_id else None,
            )
        )
    return plays


def batches(plays: Sequence[PlayIn], size: int) -> Iterator[Sequence[PlayIn]]:
    for start in range(0, len(plays), size):
        yield plays[start : start + size]


async def record_all(
    sessions: async_sessionmaker, per_member: list[list[PlayIn]], size: int
) -> tuple[int, int, float, float]:
    """Plays added, duplicates, wall seconds, CPU seconds of this process (all its threads:
    SQLite works in aiosqlite's thread; a PostgreSQL server's CPU is not counted)."""
    added = duplicates = 0
    cpu = time.process_time()
    started = time.perf_counter()
    for plays in per_member:
        for batch in batches(plays, size):
            async with session_scope(sessions, shared_writes=True) as session:
                result = await record_plays(session, batch)
            added += result.added
            duplicates += result.duplicates
    return added, duplicates, time.perf_counter() - started, time.process_time() - cpu


async def table_bytes(engine: AsyncEngine, tables: Sequence[str]) -> int:
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            total = 0
            for table in tables:
                total += int(
                    await connection.scalar(text(f"SELECT pg_total_relation_size('{table}')")) or 0
                )
            return total
        # dbstat: every page of each table and of its indexes
        names = ", ".join(f"'{t}'" for t in tables)
        index_names = await connection.execute(
            text(f"SELECT name FROM sqlite_master WHERE tbl_name IN ({names})")
        )
        every = sorted({*tables, *(row[0] for row in index_names)})
        listed = ", ".join(f"'{n}'" for n in every)
        return int(
            await connection.scalar(
                text(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({listed})")
            )
            or 0
        )


async def run_backend(url: str, options: Options) -> None:
    backend = make_url(url).get_backend_name()
    print(f"\n== {backend} ==", flush=True)
    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = make_session_factory(engine)
    rng = random.Random(options.seed)
    catalog = make_catalog(options.tracks, rng)
    weights = list(accumulate(1 / (n + 10) for n in range(len(catalog))))
    each = options.plays // options.members
    per_member = [
        member_plays(FIRST_MEMBER_ID + n, each, catalog, weights, options.taste, rng)
        for n in range(options.members)
    ]
    total = each * options.members
    try:
        added, duplicates, seconds, cpu = await record_all(sessions, per_member, options.batch)
        rate = total / seconds
        verdict = (
            "n/a" if backend != "sqlite" else "ok" if rate >= TARGET_PLAYS_PER_SECOND else "BELOW"
        )
        print(
            f"  import:    {total:,} plays ({options.members} members, batches of "
            f"{options.batch:,}) in {seconds:.1f} s = {rate:,.0f} plays/s "
            f"(target >= {TARGET_PLAYS_PER_SECOND:,}/s on SQLite: {verdict}); "
            f"{total / cpu:,.0f} plays per CPU-second of this process; "
            f"added {added:,}, duplicates {duplicates:,}",
            flush=True,
        )
        again, dup_again, seconds, cpu = await record_all(sessions, per_member, options.batch)
        print(
            f"  re-import: {total:,} plays in {seconds:.1f} s = {total / seconds:,.0f} plays/s, "
            f"{total / cpu:,.0f} per CPU-second; added {again:,}, duplicates {dup_again:,}",
            flush=True,
        )
        day = [
            PlayIn(
                discord_user_id=FIRST_MEMBER_ID + n,
                started_at=datetime.now(UTC) + timedelta(minutes=4 * k),
                ms_played=track.duration_ms,
                source=PlaySource.PRESENCE,
                track_name=track.title,
                artist_names=track.artists,
                album_name=track.album,
                track_id=track.spotify_id,
                duration_ms=track.duration_ms,
            )
            for k in range(30)
            for n in range(options.members)
            for track in [catalog[rng.randrange(len(catalog))]]
        ]
        started = time.perf_counter()
        for batch in batches(day, 200):
            async with session_scope(sessions, shared_writes=True) as session:
                await record_plays(session, batch)
        seconds = time.perf_counter() - started
        print(
            f"  presence:  a day of 30 plays for each member ({len(day):,} plays, batches of "
            f"200) in {seconds:.2f} s = {len(day) / seconds:,.0f} plays/s",
            flush=True,
        )
        stored = added + len(day)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM ANALYZE")
        sizes = {
            "raw plays": await table_bytes(engine, RAW),
            "aggregates": await table_bytes(engine, AGGREGATES),
            "catalog": await table_bytes(engine, CATALOG),
        }
        per_million = {name: size / stored * 1_000_000 / 2**20 for name, size in sizes.items()}
        print(
            "  size per million plays: "
            + ", ".join(f"{name} {mb:,.0f} MB" for name, mb in per_million.items())
            + f"; raw + aggregates {per_million['raw plays'] + per_million['aggregates']:,.0f} MB"
            f" ({stored:,} plays stored)",
            flush=True,
        )
    finally:
        await engine.dispose()


async def run_postgres(options: Options) -> None:
    async with throwaway_postgres() as url:
        if url is not None:
            await run_backend(url, options)


async def main() -> None:
    options = parse_args()
    for backend in options.backends:
        if backend == "postgresql":
            await run_postgres(options)
            continue
        with tempfile.TemporaryDirectory(prefix="encore-bench-") as folder:
            await run_backend(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", options)


if __name__ == "__main__":
    asyncio.run(main())
