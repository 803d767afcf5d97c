"""Benchmark: resident memory of the bot with 10,000 linked members.

Builds the data set first (in this process): 10,000 links holding encrypted sandbox tokens,
every member's six top lists of 50 items stored as fresh snapshots, their guild memberships
and the guild's scores (as a bot that has been running for a while has them).
Starts the Discord stand-in (one guild with all 10,000 members) and the Spotify sandbox here,
then runs the bot as its own process, `python -m bot`, pointed at them with the members intent
on, so discord.py caches every member and this process's memory does not count.

Prints the bot's resident memory (VmRSS, and the peak VmHWM, from /proc/PID/status) once it is
ready, after a burst of commands (waves of /profile, /top artists, /top tracks, /saved tracks
and /privacy from different members) and, with --linger, once more after waiting, against the
target (<= 150 MB).

With --trace the bot runs under tracemalloc instead (which costs memory itself: the RSS figures
are then not the ones to compare) and the largest allocations, by package and by line, are
printed at each of those moments with what changed since the one before.

    .venv/bin/python bench/memory.py
    .venv/bin/python bench/memory.py --members 2000 --commands 400 --trace
    .venv/bin/python bench/memory.py --linger 200    # again once the paginators timed out
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import create_engine, make_session_factory
from bot.db.migrate import upgrade_to_head
from bot.db.models import (
    CatalogItem,
    GuildMember,
    ItemKind,
    LinkStatus,
    SpotifyLink,
    TimeRange,
    TopSnapshot,
)
from bot.db.vault import TokenVault
from bot.sandbox.discord import DiscordStandIn, StandInInteraction, StandInUser
from bot.sandbox.spotify import SpotifySandbox
from bot.services.community import CommunityService
from bot.spotify.oauth import SCOPES

TARGET_MB = 150.0
FIRST_MEMBER_ID = 10**17
LIST_LENGTH = 50
COMMANDS = ("profile", "top artists", "top tracks", "saved tracks", "privacy")
POLL = 0.05
PROBE_EVERY = 5.0
TRACE_FRAMES = 8
TRACE_BOOTSTRAP = """
import os, runpy, signal, sys, tracemalloc
frames, target = int(sys.argv[1]), sys.argv[2]
tracemalloc.start(frames)
def dump(signum, frame):
    tracemalloc.take_snapshot().dump(target + ".part")
    os.replace(target + ".part", target)
signal.signal(signal.SIGUSR1, dump)
sys.argv = ["bot", "run"]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""
"""Runs `python -m bot` under tracemalloc; SIGUSR1 dumps a snapshot to the file in argv[2]."""


@dataclass(frozen=True)
class Options:
    members: int
    commands: int
    wave: int
    trace: bool
    seed: int
    linger: float


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--commands", type=int, default=1000, help="commands in the burst")
    parser.add_argument("--wave", type=int, default=200, help="commands dispatched at once")
    parser.add_argument("--trace", action="store_true", help="show allocations (tracemalloc)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--linger", type=float, default=0, help="seconds to wait after the burst, then measure"
    )
    args = parser.parse_args()
    return Options(args.members, args.commands, args.wave, args.trace, args.seed, args.linger)


# --- data set -----------------------------------------------------------------------------


def member_ids(options: Options) -> range:
    return range(FIRST_MEMBER_ID, FIRST_MEMBER_ID + options.members)


def link_rows(
    options: Options, sandbox: SpotifySandbox, vault: TokenVault, now: datetime
) -> Iterator[dict[str, Any]]:
    new_users = sandbox.add_users(options.members)
    for discord_id, user in zip(member_ids(options), new_users, strict=True):
        tokens = sandbox.issue_tokens(user.id)
        yield {
            "discord_user_id": discord_id,
            "spotify_account_id": user.account_id,
            "spotify_user_id": user.id,
            "display_name": user.display_name,
            "access_token_enc": vault.encrypt(tokens["access_token"]),
            "refresh_token_enc": vault.encrypt(tokens["refresh_token"]),
            "access_expires_at": now + timedelta(seconds=tokens["expires_in"]),
            "scopes": " ".join(SCOPES),
            "authorized_at": now,
            "linked_at": now,
            "status": LinkStatus.ACTIVE,
            "synced_at": now,
            "sync_due_at": now + timedelta(days=1),
        }


def catalog_rows(sandbox: SpotifySandbox, now: datetime) -> list[dict[str, Any]]:
    """The sandbox's artists and tracks; catalog ids are given so top items can point at them."""
    catalog = sandbox.catalog
    rows: list[dict[str, Any]] = []
    for artist in catalog.artists.values():
        rows.append({"kind": int(ItemKind.ARTIST), "spotify_id": artist.id, "name": artist.name})
    for track in catalog.tracks.values():
        byline = ", ".join(catalog.artists[a].name for a in track.artist_ids)
        rows.append(
            {
                "kind": int(ItemKind.TRACK),
                "spotify_id": track.id,
                "name": track.name,
                "subtitle": byline,
                "album_spotify_id": track.album_id,
            }
        )
    for item_id, row in enumerate(rows, start=1):
        row.update(
            id=item_id,
            image_url=f"{sandbox.base_url}/images/{row['spotify_id']}.png?size=300",
            updated_at=now,
        )
    return rows


def top_item_rows(
    options: Options, catalog: list[dict[str, Any]]
) -> Iterator[tuple[int, int, int, int, int]]:
    """(discord_user_id, kind, time_range, rank, item_id): six lists of 50 per member."""
    rng = random.Random(options.seed)
    by_kind = {
        kind: [row["id"] for row in catalog if row["kind"] == int(kind)]
        for kind in (ItemKind.ARTIST, ItemKind.TRACK)
    }
    for user in member_ids(options):
        for kind, ids in by_kind.items():
            for time_range in TimeRange:
                for rank, item_id in enumerate(rng.sample(ids, LIST_LENGTH), start=1):
                    yield user, int(kind), int(time_range), rank, item_id


async def insert_top_items(
    connection: AsyncConnection, rows: Iterator[tuple[int, int, int, int, int]]
) -> None:
    """Millions of small rows: straight to the driver, in batches, with the table's secondary
    indexes dropped meanwhile and built once at the end."""
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    cursor = await raw.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = 'top_items' AND sql IS NOT NULL"
    )
    indexes = list(await cursor.fetchall())
    for name, _ in indexes:
        await raw.execute(f'DROP INDEX "{name}"')
    sql = (
        "INSERT INTO top_items (discord_user_id, kind, time_range, rank, item_id) "
        "VALUES (?, ?, ?, ?, ?)"
    )
    batch: list[tuple[int, int, int, int, int]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 100_000:
            await raw.executemany(sql, batch)
            batch = []
    if batch:
        await raw.executemany(sql, batch)
    for _, create in indexes:
        await raw.execute(create)


async def build_database(
    url: str, options: Options, sandbox: SpotifySandbox, vault: TokenVault, guild_id: int
) -> None:
    await upgrade_to_head(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    catalog = catalog_rows(sandbox, now)
    async with engine.begin() as connection:
        await connection.execute(insert(SpotifyLink), list(link_rows(options, sandbox, vault, now)))
        await connection.execute(insert(CatalogItem), catalog)
        await connection.execute(
            insert(GuildMember),
            [
                {"guild_id": guild_id, "discord_user_id": user, "visible": True, "seen_at": now}
                for user in member_ids(options)
            ],
        )
        await connection.execute(
            insert(TopSnapshot),
            [
                {
                    "discord_user_id": user,
                    "kind": int(kind),
                    "time_range": int(time_range),
                    "fetched_at": now,
                    "item_count": LIST_LENGTH,
                }
                for user in member_ids(options)
                for kind in (ItemKind.ARTIST, ItemKind.TRACK)
                for time_range in TimeRange
            ],
        )
        await insert_top_items(connection, top_item_rows(options, catalog))
    await CommunityService(make_session_factory(engine)).rebuild_guild_scores(guild_id)
    await engine.dispose()


# --- the bot process ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bot_environment(
    data_dir: Path, url: str, key: str, port: int, standin: DiscordStandIn, sandbox: SpotifySandbox
) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "DISCORD_TOKEN": standin.token,
        "DISCORD_API_URL": standin.api_url,
        "DISCORD_GATEWAY_URL": standin.gateway_url,
        "DISCORD_MEMBERS_INTENT": "true",
        "SPOTIFY_CLIENT_ID": "sandbox-client",
        "SPOTIFY_CLIENT_SECRET": "sandbox-secret",
        "SPOTIFY_REDIRECT_URI": f"http://127.0.0.1:{port}/callback",
        "SPOTIFY_API_URL": sandbox.api_url,
        "SPOTIFY_ACCOUNTS_URL": sandbox.accounts_url,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": url,
        "TOKEN_ENCRYPTION_KEY": key,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


def start_bot(
    env: dict[str, str], data_dir: Path, trace_file: Path | None
) -> subprocess.Popen[bytes]:
    if trace_file is None:
        command = [sys.executable, "-m", "bot", "run"]
    else:
        command = [sys.executable, "-c", TRACE_BOOTSTRAP, str(TRACE_FRAMES), str(trace_file)]
    log = (data_dir / "bot.log").open("wb")
    return subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)


@dataclass(frozen=True)
class Memory:
    """From /proc/PID: resident memory now and at its peak, split into the heap (anonymous)
    and mapped files (libraries), in MB; the process's threads and open database files."""

    rss: float
    peak: float
    anon: float
    file: float
    threads: int
    db_files: int

    @classmethod
    def of(cls, pid: int) -> Memory:
        status = Path(f"/proc/{pid}/status").read_text()
        found = dict(re.findall(r"^(\w+):\s+(\d+)", status, re.M))
        db_files = sum(
            1 for fd in Path(f"/proc/{pid}/fd").iterdir() if fd.readlink().suffix == ".db"
        )
        return cls(
            rss=int(found["VmRSS"]) / 1024,
            peak=int(found["VmHWM"]) / 1024,
            anon=int(found["RssAnon"]) / 1024,
            file=int(found["RssFile"]) / 1024,
            threads=int(found["Threads"]),
            db_files=db_files,
        )

    def line(self, label: str, note: str) -> str:
        met = "met" if self.rss <= TARGET_MB else "MISSED"
        peak = " (peak over)" if self.peak > TARGET_MB else ""
        return (
            f"{label:<19}RSS {self.rss:6.1f} MB  peak {self.peak:6.1f} MB  "
            f"target <= {TARGET_MB:g} MB: {met}{peak}{note}\n"
            f"{'':19}heap {self.anon:.1f} MB, mapped files {self.file:.1f} MB, "
            f"{self.threads} threads, {self.db_files} database files open"
        )


async def wait_ready(process: subprocess.Popen[bytes], port: int) -> float:
    """Seconds until /healthz says the database and the gateway are fine."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the bot exited with {process.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


async def wait_answering(standin: DiscordStandIn, guild_id: int, user: StandInUser) -> float:
    """Seconds until a /profile is answered: the bot may be busy with startup work (or fail
    commands meanwhile) after /healthz is fine. One probe every few seconds."""
    started = time.monotonic()
    probes: list[StandInInteraction] = []
    while True:
        probes.append(await standin.invoke("profile", user=user, guild_id=guild_id))
        for _ in range(int(PROBE_EVERY / POLL)):
            if any(answered(probe) for probe in probes):
                return time.monotonic() - started
            await asyncio.sleep(POLL)


async def settled_memory(pid: int, seconds: float = 20) -> Memory:
    """Memory once RSS stopped moving by more than 1 MB for two seconds (or after `seconds`)."""
    samples: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(Memory.of(pid).rss)
        if len(samples) >= 5 and max(samples[-5:]) - min(samples[-5:]) <= 1.0:
            break
        await asyncio.sleep(0.5)
    return Memory.of(pid)


def stop_bot(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- the burst ----------------------------------------------------------------------------


def answered(interaction: StandInInteraction) -> bool:
    return interaction.response is not None and any(
        not message.loading and not message.deleted for message in interaction.messages
    )


async def burst(
    standin: DiscordStandIn, guild_id: int, users: list[StandInUser], options: Options
) -> int:
    """Waves of commands from members picked at random; returns how many were answered."""
    rng = random.Random(options.seed)
    done = 0
    for start in range(0, options.commands, options.wave):
        count = min(options.wave, options.commands - start)
        wave = [
            await standin.invoke(
                COMMANDS[(start + n) % len(COMMANDS)], user=rng.choice(users), guild_id=guild_id
            )
            for n in range(count)
        ]
        for _ in range(int(120 / POLL)):
            if all(answered(i) for i in wave):
                break
            await asyncio.sleep(POLL)
        done += sum(1 for i in wave if answered(i))
    return done


# --- tracemalloc --------------------------------------------------------------------------


async def trace_snapshot(process: subprocess.Popen[bytes], path: Path) -> tracemalloc.Snapshot:
    await asyncio.to_thread(path.unlink, missing_ok=True)
    process.send_signal(signal.SIGUSR1)
    for _ in range(int(120 / POLL)):
        if await asyncio.to_thread(path.exists):
            return await asyncio.to_thread(tracemalloc.Snapshot.load, str(path))
        await asyncio.sleep(POLL)
    raise TimeoutError("the bot did not write its tracemalloc snapshot")


def package_of(filename: str) -> str:
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    for top in ("bot", "cogs"):
        if top in parts:
            return "/".join(parts[parts.index(top) : parts.index(top) + 2]).removesuffix(".py")
    return "(python stdlib)" if "lib" in parts else filename


def print_trace(
    title: str, snapshot: tracemalloc.Snapshot, before: tracemalloc.Snapshot | None
) -> None:
    snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    stats = snapshot.statistics("traceback")
    total = sum(stat.size for stat in stats) / 2**20
    print(f"\n{title}: {total:.1f} MB traced by tracemalloc")
    by_package: Counter[str] = Counter()
    for stat in stats:
        by_package[package_of(stat.traceback[0].filename)] += stat.size
    print("  by package (where the memory was allocated):")
    for package, size in by_package.most_common(12):
        print(f"    {size / 2**20:7.1f} MB  {package}")
    print("  largest lines:")
    for stat in snapshot.statistics("lineno")[:12]:
        frame = stat.traceback[0]
        where = f"{frame.filename}:{frame.lineno}"
        print(f"    {stat.size / 2**20:7.1f} MB  {stat.count:>8} blocks  {where}")
    if before is not None:
        print("  changed since the previous snapshot:")
        for diff in snapshot.compare_to(before, "lineno")[:8]:
            frame = diff.traceback[0]
            print(f"    {diff.size_diff / 2**20:+7.1f} MB  {frame.filename}:{frame.lineno}")


# --- run ----------------------------------------------------------------------------------


async def run(options: Options, data_dir: Path) -> None:
    key = Fernet.generate_key().decode()
    url = f"sqlite+aiosqlite:///{data_dir / 'encore.db'}"
    port = free_port()
    trace_file = data_dir / "trace.snapshot" if options.trace else None
    async with SpotifySandbox(users=0) as sandbox, DiscordStandIn() as standin:
        users = [standin.add_user(user, f"member{n}") for n, user in enumerate(member_ids(options))]
        guild = standin.add_guild(name="Big Guild", members=users)
        standin.interaction_deadline = 600
        started = time.monotonic()
        await build_database(url, options, sandbox, TokenVault([key]), guild.id)
        size = (data_dir / "encore.db").stat().st_size / 2**20
        print(f"data set           built in {time.monotonic() - started:.0f} s, {size:.0f} MB")
        env = bot_environment(data_dir, url, key, port, standin, sandbox)
        process = start_bot(env, data_dir, trace_file)
        try:
            async with asyncio.timeout(300):
                ready_after = await wait_ready(process, port)
            async with asyncio.timeout(900):
                answering_after = await wait_answering(standin, guild.id, users[0])
            startup = await settled_memory(process.pid)
            startup_trace = await trace_snapshot(process, trace_file) if trace_file else None
            started = time.monotonic()
            answered_count = await burst(standin, guild.id, users, options)
            burst_seconds = time.monotonic() - started
            after_burst = Memory.of(process.pid)
            burst_trace = await trace_snapshot(process, trace_file) if trace_file else None
            await asyncio.sleep(options.linger)
            idle = Memory.of(process.pid)
            linger_trace = (
                await trace_snapshot(process, trace_file) if trace_file and options.linger else None
            )
        except BaseException:
            print((data_dir / "bot.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop_bot(process)
    rows = options.members * 6 * LIST_LENGTH
    print(f"members            {options.members} linked and in the guild (members intent on)")
    print(f"top items          {rows:,} rows in fresh snapshots")
    print(
        f"ready after        {ready_after:.1f} s (/healthz), first command answered after "
        f"{answering_after:.1f} s more"
    )
    note = "  (under tracemalloc: not comparable)" if options.trace else ""
    print(startup.line("after startup", note))
    print(after_burst.line("after burst", note))
    if options.linger:
        print(idle.line(f"{options.linger:g} s later", note))
    print(
        f"burst              {answered_count} of {options.commands} commands answered in "
        f"{burst_seconds:.1f} s, {options.wave} at a time ({', '.join(COMMANDS)})"
    )
    if startup_trace is not None and burst_trace is not None:
        print_trace("after startup", startup_trace, None)
        print_trace("after burst", burst_trace, startup_trace)
    if linger_trace is not None and burst_trace is not None:
        print_trace(f"{options.linger:g} s after the burst", linger_trace, burst_trace)


def main() -> None:
    options = parse_args()
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as data_dir:
        asyncio.run(run(options, Path(data_dir)))


if __name__ == "__main__":
    main()
