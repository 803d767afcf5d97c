"""Benchmark: the bot (`python -m bot run`, presences on) taking in Spotify presence updates
while slash commands keep coming, and its resident memory with a big listening guild.

One guild of `--members` members (10,000), `--listening` of them (2,000) already playing
Spotify when the bot connects (their presences arrive in GUILD_CREATE), the guild recording
listening. Figures:

1. resident memory of the bot once the guild is loaded (target <= 200 MB);
2. for `--seconds` (20), presence updates at `--rate` per second (2,000; listening members
   changing track, `--finished` of the changes ending a listening long enough to be a play, so
   the bot also writes plays), while every second 50 concurrent slash commands (/nowplaying
   and /recent alternating, about listening members) are timed from the stand-in writing
   INTERACTION_CREATE to the bot's first callback (target p99 <= 100 ms). The achieved rate is
   updates written to the bot's websocket / wall time, the websocket applying backpressure when
   the bot falls behind; the bot's CPU per 1,000 updates and its memory afterwards are printed.

The stand-ins run in this process (their CPU does not count against the bot's, but they share
the machine's two cores with it).

    .venv/bin/python bench/presence.py
    .venv/bin/python bench/presence.py --members 10000 --listening 2000 --rate 2000 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet
from harness import (
    answered,
    bot_environment,
    cpu_seconds,
    free_port,
    log_tail,
    member_ids,
    rss_mb,
    start_bot,
    stop_process,
    wait_ready,
)
from sqlalchemy import insert

from bot.db.engine import create_engine
from bot.db.migrate import upgrade_to_head
from bot.db.models import GuildSettings
from sandbox.discord import DiscordStandIn, SpotifyPlay, SpotifyTrack, StandInInteraction

TARGET_RATE = 2000
TARGET_P99_MS = 100.0
TARGET_RSS_MB = 200.0
COMMANDS = ("nowplaying", "recent")
TICK = 0.1
TRACKS = [
    SpotifyTrack(
        id=f"{n:022d}",
        title=f"Track {n}",
        artists=(f"Artist {n % 97}", f"Guest {n % 13}"),
        album=f"Album {n % 211}",
        cover_id=f"ab67616d0000b273{n:024x}",
        duration_ms=150_000 + n * 997 % 120_000,
    )
    for n in range(500)
]


@dataclass(frozen=True)
class Options:
    members: int
    listening: int
    rate: int
    seconds: float
    commands: int
    finished: float
    database: str | None


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--listening", type=int, default=2_000)
    parser.add_argument("--rate", type=int, default=TARGET_RATE, help="presence updates per s")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--commands", type=int, default=50, help="concurrent commands per s")
    parser.add_argument(
        "--finished",
        type=float,
        default=0.5,
        help="share of track changes that end a listening long enough to count as a play",
    )
    parser.add_argument("--database", help="an empty database's URL (default: a SQLite file)")
    a = parser.parse_args()
    return Options(a.members, a.listening, a.rate, a.seconds, a.commands, a.finished, a.database)


def percentiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cuts[49]:.1f}  p95 {cuts[94]:.1f}  p99 {cuts[98]:.1f}  max {max(values):.1f} ms"


async def prepare_database(url: str, guild_id: int) -> None:
    """Migrated, with the guild recording listening (as `/settings record_listening:true`)."""
    await upgrade_to_head(url)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            insert(GuildSettings), [{"guild_id": guild_id, "record_listening": True}]
        )
    await engine.dispose()


async def settle(interactions: list[StandInInteraction], patience: float = 60) -> list[float]:
    """First-callback ms of each; polls (hundreds of waiters would cost this process more)."""
    async with asyncio.timeout(patience):
        while not all(answered(i) for i in interactions):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return [
        (i.response.at - i.sent_at) * 1000
        for i in interactions
        if i.response is not None and i.sent_at is not None
    ]


async def commands_every_second(
    standin: DiscordStandIn,
    guild_id: int,
    users: list,  # type: ignore[type-arg]
    per_second: int,
    stop: asyncio.Event,
) -> list[float]:
    """`per_second` commands dispatched at once every second until `stop`; first-callback ms."""
    timings: list[float] = []
    pending: list[asyncio.Task[list[float]]] = []
    round_ = 0
    while not stop.is_set():
        fired = [
            await standin.invoke(
                COMMANDS[n % len(COMMANDS)],
                user=users[(round_ * per_second + n) % len(users)],
                guild_id=guild_id,
                options={"member": users[(round_ * per_second + n + 1) % len(users)].id},
            )
            for n in range(per_second)
        ]
        pending.append(asyncio.create_task(settle(fired)))
        round_ += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    for result in await asyncio.gather(*pending):
        timings += result
    return timings


async def drive(
    standin: DiscordStandIn,
    listeners: list,  # type: ignore[type-arg]
    options: Options,
) -> tuple[int, float]:
    """Presence updates at `options.rate` per second for `options.seconds`; (sent, seconds)."""
    per_tick = max(1, int(options.rate * TICK))
    sent = 0
    began = time.perf_counter()
    tick = 0
    cursor = 0
    while time.perf_counter() - began < options.seconds:
        now = datetime.now(UTC)
        plays: list[SpotifyPlay] = []
        for _ in range(per_tick):
            user = listeners[cursor % len(listeners)]
            cursor += 1
            track = TRACKS[(cursor * 7 + tick) % len(TRACKS)]
            finished = (cursor % 100) < options.finished * 100
            # a listening that began a whole track ago ends now as a play; else a skip
            started = now - timedelta(milliseconds=track.duration_ms if finished else 1000)
            plays.append((user, track, started))
        sent += standin.play_spotify_many(plays)
        await standin.flushed(timeout=120)
        tick += 1
        behind = began + tick * TICK - time.perf_counter()
        if behind > 0:
            await asyncio.sleep(behind)
    await standin.flushed(timeout=120)
    return sent, time.perf_counter() - began


async def run(options: Options, data_dir: Path) -> None:
    key = Fernet.generate_key().decode()
    url = options.database or f"sqlite+aiosqlite:///{data_dir / 'encore.db'}"
    port = free_port()
    from sandbox.spotify import SpotifySandbox

    async with SpotifySandbox(users=0) as sandbox, DiscordStandIn() as standin:
        ids = member_ids(options.members)
        users = [standin.add_user(member, f"member{n}") for n, member in enumerate(ids)]
        guild = standin.add_guild(name="Bench", members=users)
        listeners = users[: options.listening]
        start = datetime.now(UTC) - timedelta(seconds=30)
        standin.play_spotify_many(
            [(user, TRACKS[n % len(TRACKS)], start) for n, user in enumerate(listeners)]
        )
        await prepare_database(url, guild.id)
        env = bot_environment(data_dir, url, key, port, standin, sandbox)
        env["DISCORD_PRESENCE_INTENT"] = "true"
        process = start_bot(env, data_dir)
        try:
            async with asyncio.timeout(180):
                await wait_ready(process, port)
            await asyncio.sleep(5)
            loaded = rss_mb(process.pid)
            print(
                f"guild of {options.members} members, {options.listening} listening, loaded: "
                f"bot RSS {loaded:.1f} MB (target <= {TARGET_RSS_MB:.0f} MB)"
            )
            warm = [await standin.invoke(c, user=users[0], guild_id=guild.id) for c in COMMANDS * 5]
            await settle(warm)
            standin.interaction_deadline = 600.0
            stop = asyncio.Event()
            cpu_before = cpu_seconds(process.pid)
            commands = asyncio.create_task(
                commands_every_second(standin, guild.id, listeners, options.commands, stop)
            )
            sent, seconds = await drive(standin, listeners, options)
            stop.set()
            cpu = cpu_seconds(process.pid) - cpu_before
            timings = await commands
            await asyncio.sleep(3)
            after = rss_mb(process.pid)
        except BaseException:
            print(log_tail(data_dir), file=sys.stderr)
            raise
        finally:
            stop_process(process)
    rate = sent / seconds
    print(
        f"presence updates: {sent} in {seconds:.1f} s = {rate:,.0f}/s sustained "
        f"(target >= {TARGET_RATE}); bot CPU {cpu * 1000 / max(sent, 1) * 1000:.0f} ms "
        f"per 1,000 updates ({cpu / seconds * 100:.0f}% of a core, commands included)"
    )
    print(
        f"first response of {len(timings)} slash commands ({options.commands} at once every "
        f"second, /nowplaying and /recent): {percentiles(timings)} "
        f"(target p99 <= {TARGET_P99_MS:.0f} ms)"
    )
    print(f"bot RSS after the load: {after:.1f} MB")
    p99 = statistics.quantiles(timings, n=100, method="inclusive")[98]
    ok = rate >= TARGET_RATE * 0.98 and p99 <= TARGET_P99_MS and loaded <= TARGET_RSS_MB
    print("verdict:", "meets the targets" if ok else "MISSES a target")


def main() -> None:
    options = parse_args()
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as data_dir:
        asyncio.run(run(options, Path(data_dir)))


if __name__ == "__main__":
    main()
