"""Benchmark: /crowns and the crown mark of /whoknows over one guild (bot/store/crowns.py).

Data: bench/play_rankings.py's generator (M members in one guild, D days of P plays a day,
aggregates bulk-inserted), plus one heavy member with --heavy-artists artists at 30 to 400
all-time plays each, most of them the catalog's most popular artists, so /crowns walks
hundreds of artists that many members play, and --other-members members of 50 other guilds
(no plays; they make `guild_members` as big as a bot in many guilds has it). Raw plays are not
generated: ties at the top read the tied members' raw plays of the artist, which here are empty
(a tie costs one more query per member involved; ties are rare with real counts).

Prints the median over --repeat runs of /crowns for the heavy member and for a light one (an
ordinary member with the fewest crowns), one pass of /crowns over every ordinary member (median
and slowest), and the crown holder of a popular and a rare artist (/whoknows artist's 👑).

    .venv/bin/python bench/crowns.py --db sqlite --members 300 --days 90
    .venv/bin/python bench/crowns.py --db postgresql --members 2000 --days 365
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

from harness import analyze, on_databases
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bench.play_rankings import (
    ARTIST,
    FIRST_MEMBER,
    GUILD,
    TARGET_MS,
    Catalog,
    chunked,
    fill,
    median_ms,
)
from bot.db.engine import create_engine, make_session_factory
from bot.db.migrate import upgrade_to_head
from bot.db.models import GuildMember, PlayTotal
from bot.store.crowns import CROWN_MIN_PLAYS, crown_holder, member_crowns


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--plays-per-day", type=int, default=30)
    parser.add_argument("--tracks", type=int, default=20_000)
    parser.add_argument("--taste", type=int, default=400, help="tracks each member plays")
    parser.add_argument("--heavy-artists", type=int, default=500)
    parser.add_argument(
        "--other-members", type=int, default=20_000, help="members of 50 other guilds"
    )
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


async def add_heavy_member(
    engine: AsyncEngine, args: argparse.Namespace, catalog: Catalog, rng: random.Random
) -> int:
    """One more member with --heavy-artists artists at 30..400 plays; returns their id."""
    user = FIRST_MEMBER + args.members
    async with engine.begin() as connection:
        popular = list(
            await connection.scalars(
                select(PlayTotal.item_id)
                .where(PlayTotal.kind == ARTIST)
                .group_by(PlayTotal.item_id)
                .order_by(func.count().desc(), PlayTotal.item_id)
                .limit(args.heavy_artists)
            )
        )
        others = [
            catalog.first_artist + a for a in range(catalog.artists)
        ]  # fill up with any artists
        artists = list(dict.fromkeys(popular + others))[: args.heavy_artists]
        await connection.execute(
            insert(GuildMember),
            [{"guild_id": GUILD, "discord_user_id": user, "seen_at": datetime.now(UTC)}],
        )
        rows = (
            {
                "discord_user_id": user,
                "kind": ARTIST,
                "item_id": artist,
                "plays": plays,
                "ms_played": plays * 200_000,
            }
            for artist in artists
            for plays in [rng.randint(CROWN_MIN_PLAYS, 400)]
        )
        for batch in chunked(rows):
            await connection.execute(insert(PlayTotal), batch)
    return user


async def add_other_guilds(engine: AsyncEngine, args: argparse.Namespace) -> None:
    """Members of the bot's other guilds, without plays: a bot is in many guilds, and a
    `guild_members` of a few hundred rows is so small that PostgreSQL scans it instead of
    using its index, which no real deployment would see."""
    first = FIRST_MEMBER * 2
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        for batch in chunked(
            {"guild_id": GUILD + 1 + n % 50, "discord_user_id": first + n, "seen_at": now}
            for n in range(args.other_members)
        ):
            await connection.execute(insert(GuildMember), batch)


async def crowns_of(session: Any, *, user: int) -> object:
    return await member_crowns(session, GUILD, user)


async def holder_of(session: Any, *, artist: int) -> object:
    return await crown_holder(session, GUILD, artist)


def verdict(ms: float) -> str:
    return "ok" if ms <= TARGET_MS else "OVER"


async def measure(sessions: async_sessionmaker[Any], args: argparse.Namespace, heavy: int) -> None:
    worst = 0.0
    held: dict[int, int] = {}
    times: list[float] = []
    for m in range(args.members):
        user = FIRST_MEMBER + m
        async with sessions() as session:
            started = time.perf_counter()
            held[user] = len(await member_crowns(session, GUILD, user))
            times.append((time.perf_counter() - started) * 1000)
    async with sessions() as session:
        qualifying = await session.scalar(
            select(func.count()).where(
                PlayTotal.discord_user_id == heavy,
                PlayTotal.kind == ARTIST,
                PlayTotal.plays >= CROWN_MIN_PLAYS,
            )
        )
        heavy_crowns = len(await member_crowns(session, GUILD, heavy))
    light = min(held, key=lambda user: (held[user], user))
    print(
        f"  /crowns, one pass over all {args.members:,} ordinary members "
        f"({sum(held.values()):,} crowns, at most {max(held.values())} each): "
        f"median {statistics.median(times):.1f} ms, slowest {max(times):.1f} ms",
        flush=True,
    )
    for label, user, count in (
        (f"heavy member ({qualifying} artists with >= 30 plays)", heavy, heavy_crowns),
        ("light member", light, held[light]),
    ):
        ms = await median_ms(sessions, partial(crowns_of, user=user), args.repeat)
        worst = max(worst, ms)
        print(f"  /crowns {label}, {count} crowns: {ms:7.1f} ms  {verdict(ms)}", flush=True)
    async with sessions() as session:
        by_listeners = (
            select(PlayTotal.item_id)
            .where(PlayTotal.kind == ARTIST)
            .group_by(PlayTotal.item_id)
            .order_by(func.count().desc(), PlayTotal.item_id)
        )
        popular = await session.scalar(by_listeners.limit(1))
        rare = await session.scalar(
            by_listeners.order_by(None).order_by(func.count(), PlayTotal.item_id).limit(1)
        )
    for label, artist in (("popular", popular), ("rare", rare)):
        if artist is None:
            continue
        ms = await median_ms(sessions, partial(holder_of, artist=artist), args.repeat)
        worst = max(worst, ms)
        print(f"  crown holder ({label} artist, /whoknows 👑): {ms:7.1f} ms  {verdict(ms)}")
    print(f"  slowest median: {worst:.1f} ms (target <= {TARGET_MS:.0f} ms)", flush=True)


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
        heavy = await add_heavy_member(engine, args, catalog, rng)
        await add_other_guilds(engine, args)
        print(
            f"  data: {args.members:,} members x {args.days} days x {args.plays_per_day} plays "
            f"= {plays:,} plays as {rows:,} aggregate rows, one heavy member, "
            f"{args.other_members:,} members of other guilds "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        await analyze(engine)
        await measure(sessions, args, heavy)
    finally:
        await engine.dispose()


async def main() -> None:
    args = parse_args()
    await on_databases(args.db, lambda url: run_backend(url, args))


if __name__ == "__main__":
    asyncio.run(main())
