"""Benchmark: /wrapped for a member with a whole year of plays, through the bot and in parts.

Data: one member with last calendar year at --plays-per-day plays every day (30: 10,950 plays),
recorded through `record_plays` in batches (as an import would), tracks drawn from the Spotify
sandbox's catalog with a Zipf-like taste, each play carrying its cover URL on the sandbox (as
Discord status and recently-played plays do); artists are named only, so their pictures are
their most played tracks' covers. A few other members are in the guild to ask for the card.

Through the bot: the bot runs as its own process (`python -m bot run`) against the Discord
stand-in and the Spotify sandbox in this process; each round another member runs
`/wrapped member:<the member> year:<last year>` (the per-member limit is 5 a minute), timed from
the INTERACTION_CREATE leaving the stand-in to the reply with the PNG attachment arriving.
The first round fetches the covers from the sandbox; later rounds find them in the bot's
artwork cache (the median is over those, the first is printed beside it).

In parts, in this process: the store queries and service (`WrappedService.wrapped`), fetching
the art with a cold cache, and the image render alone (`render_card`).

    .venv/bin/python bench/wrapped.py [--db sqlite|postgresql] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import TypeVar

import aiohttp
from cryptography.fernet import Fernet
from harness import (
    bot_environment,
    cpu_seconds,
    free_port,
    log_tail,
    start_bot,
    stop_process,
    throwaway_postgres,
    wait_ready,
)
from sqlalchemy import insert

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.db.models import GuildMember
from bot.domain import PlayIn, PlaySource
from bot.services.artwork import ArtworkFetcher
from bot.services.wrapped import WrappedService
from bot.store.plays import record_plays
from bot.ui.wrapped_card import render_card
from sandbox.discord import DiscordStandIn
from sandbox.discord_models import StandInMessage
from sandbox.spotify import SpotifySandbox

MEMBER = 10**17
ASKERS = 6
TARGET_CARD_MS = 1000.0
TARGET_IMAGE_MS = 300.0
BATCH_DAYS = 30
T = TypeVar("T")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--plays-per-day", type=int, default=30)
    parser.add_argument("--taste", type=int, default=600, help="tracks the member plays")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def a_year_of_plays(
    sandbox: SpotifySandbox, year: int, per_day: int, taste: int, seed: int
) -> Iterator[list[PlayIn]]:
    """The member's plays of `year`, BATCH_DAYS days per list, one listening after another."""
    rng = random.Random(seed)
    catalog = sandbox.catalog
    tracks = rng.sample(list(catalog.tracks.values()), min(taste, len(catalog.tracks)))
    weights = list(accumulate(1 / (n + 3) for n in range(len(tracks))))
    day = datetime(year, 1, 1, tzinfo=UTC)
    batch: list[PlayIn] = []
    while day.year == year:
        moment = day + timedelta(hours=8)
        for track in rng.choices(tracks, cum_weights=weights, k=per_day):
            batch.append(
                PlayIn(
                    discord_user_id=MEMBER,
                    started_at=moment,
                    ms_played=track.duration_ms,
                    source=PlaySource.IMPORT,
                    track_name=track.name,
                    artist_names=tuple(catalog.artists[a].name for a in track.artist_ids),
                    album_name=catalog.albums[track.album_id].name,
                    track_id=track.id,
                    duration_ms=track.duration_ms,
                    image_url=f"{sandbox.base_url}/images/{track.album_id}.png?size=640",
                )
            )
            moment += timedelta(milliseconds=track.duration_ms + 10_000)
        day += timedelta(days=1)
        if (day - datetime(year, 1, 1, tzinfo=UTC)).days % BATCH_DAYS == 0:
            yield batch
            batch = []
    if batch:
        yield batch


async def seed(
    url: str, sandbox: SpotifySandbox, guild_id: int, askers: list[int], args: argparse.Namespace
) -> int:
    """Record the member's year; the member and the askers join the guild. Returns the year."""
    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = make_session_factory(engine)
    year = datetime.now(UTC).year - 1
    plays = 0
    started = time.perf_counter()
    try:
        for batch in a_year_of_plays(sandbox, year, args.plays_per_day, args.taste, args.seed):
            async with session_scope(sessions, shared_writes=True) as session:
                plays += (await record_plays(session, batch)).added
        now = datetime.now(UTC)
        async with engine.begin() as connection:
            await connection.execute(
                insert(GuildMember),
                [
                    {"guild_id": guild_id, "discord_user_id": user, "seen_at": now}
                    for user in (MEMBER, *askers)
                ],
            )
        async with engine.connect() as connection:  # the statistics a running database has
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()
    print(
        f"  data: {plays:,} plays in {year} through record_plays "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return year


async def timed(call: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


def verdict(ms: float, target: float) -> str:
    return f"(target <= {target:.0f} ms: {'ok' if ms <= target else 'OVER'})"


async def in_parts(url: str, year: int, args: argparse.Namespace) -> None:
    engine = create_engine(url)
    try:
        async with aiohttp.ClientSession() as http:
            sessions = make_session_factory(engine)
            service_times: list[float] = []
            service_cpu: list[float] = []
            for _ in range(args.repeat):
                # a fresh fetcher each time: a cold artwork cache
                wrapped = WrappedService(sessions, ArtworkFetcher(http))
                cpu = time.process_time()
                ms, found = await timed(lambda: wrapped.wrapped(MEMBER, year))  # noqa: B023
                service_times.append(ms)
                service_cpu.append((time.process_time() - cpu) * 1000)
            art_times: list[float] = []
            for _ in range(args.repeat):
                wrapped = WrappedService(sessions, ArtworkFetcher(http))
                ms, art = await timed(lambda: wrapped.art(found))  # noqa: B023
                art_times.append(ms)
        render_times = []
        render_cpu = []
        for _ in range(args.repeat):
            started, cpu = time.perf_counter(), time.thread_time()
            png = render_card("member0", found, art)
            render_times.append((time.perf_counter() - started) * 1000)
            render_cpu.append((time.thread_time() - cpu) * 1000)
    finally:
        await engine.dispose()
    missing = sum(image is None for image in (*art.artists, *art.tracks, art.album))
    service_ms = statistics.median(service_times)
    print(
        f"  store + service (WrappedService.wrapped): median {service_ms:6.1f} ms "
        f"({statistics.median(service_cpu):.1f} ms of this process's CPU, SQLite's included)"
    )
    print(
        f"  art, cold cache (11 covers from the sandbox, {missing} missing): "
        f"median {statistics.median(art_times):6.1f} ms"
    )
    image_ms = statistics.median(render_times)
    print(
        f"  image render alone (render_card, {len(png) // 1024} KB PNG): "
        f"median {image_ms:6.1f} ms ({statistics.median(render_cpu):.1f} ms of CPU), "
        f"first {render_times[0]:.1f} ms {verdict(image_ms, TARGET_IMAGE_MS)}",
        flush=True,
    )


def has_card(message: StandInMessage) -> bool:
    return any(a.filename == "wrapped.png" for a in message.attachments)


async def through_the_bot(
    url: str, data_dir: Path, sandbox: SpotifySandbox, args: argparse.Namespace
) -> None:
    async with DiscordStandIn() as standin:
        member = standin.add_user(MEMBER, "member0")
        askers = [standin.add_user(MEMBER + 1 + n, f"asker{n}") for n in range(ASKERS)]
        guild = standin.add_guild(name="Bench", members=[member, *askers])
        year = await seed(url, sandbox, guild.id, [a.id for a in askers], args)
        await in_parts(url, year, args)
        port = free_port()
        env = bot_environment(data_dir, url, Fernet.generate_key().decode(), port, standin, sandbox)
        process = start_bot(env, data_dir)
        try:
            async with asyncio.timeout(120):
                await wait_ready(process, port)
            times = []
            cpu = cpu_seconds(process.pid)
            for n in range(args.repeat):
                interaction = await standin.invoke(
                    "wrapped",
                    user=askers[n % ASKERS],
                    guild_id=guild.id,
                    options={"member": member, "year": year},
                )
                await interaction.wait_message(has_card, timeout=30)
                times.append((time.monotonic() - interaction.created_at) * 1000)
                await asyncio.sleep(0.2)
            cpu_ms = (cpu_seconds(process.pid) - cpu) * 1000 / args.repeat
        except BaseException:
            print(log_tail(data_dir), file=sys.stderr)
            raise
        finally:
            stop_process(process)
    warm = statistics.median(times[1:]) if len(times) > 1 else times[0]
    print(
        f"  /wrapped through the bot, to the posted card: median {warm:6.1f} ms over "
        f"{len(times) - 1} rounds with cached art, first round (art fetched) {times[0]:.1f} ms "
        f"{verdict(max(warm, times[0]), TARGET_CARD_MS)}; the bot's CPU per card "
        f"{cpu_ms:.0f} ms (a PostgreSQL server's own not included)",
        flush=True,
    )


async def main() -> None:
    args = parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average before: {load} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        async with SpotifySandbox(users=0) as sandbox:
            if args.db == "sqlite":
                print("\n== sqlite ==", flush=True)
                await through_the_bot(
                    f"sqlite+aiosqlite:///{data_dir / 'bench.db'}", data_dir, sandbox, args
                )
                return
            async with throwaway_postgres() as url:
                if url is not None:
                    print("\n== postgresql ==", flush=True)
                    await through_the_bot(url, data_dir, sandbox, args)


if __name__ == "__main__":
    asyncio.run(main())
