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
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from harness import (
    LIST_LENGTH,
    answered,
    bot_environment,
    build_database,
    free_port,
    log_tail,
    member_ids,
    start_process,
    stop_process,
    wait_ready,
)
from harness import start_bot as harness_start_bot

from bot.db.vault import TokenVault
from sandbox.discord import DiscordStandIn, StandInInteraction, StandInUser
from sandbox.spotify import SpotifySandbox

TARGET_MB = 150.0
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


# --- the bot process ----------------------------------------------------------------------


def start_bot(
    env: dict[str, str], data_dir: Path, trace_file: Path | None
) -> subprocess.Popen[bytes]:
    if trace_file is None:
        return harness_start_bot(env, data_dir)
    command = [sys.executable, "-c", TRACE_BOOTSTRAP, str(TRACE_FRAMES), str(trace_file)]
    return start_process(command, env, data_dir)


def _opens_database(fd: Path) -> bool:
    try:
        return fd.readlink().suffix == ".db"
    except FileNotFoundError:  # closed since the folder was listed
        return False


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
        db_files = sum(1 for fd in Path(f"/proc/{pid}/fd").iterdir() if _opens_database(fd))
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


# --- the burst ----------------------------------------------------------------------------


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
        members = member_ids(options.members)
        users = [standin.add_user(user, f"member{n}") for n, user in enumerate(members)]
        guild = standin.add_guild(name="Big Guild", members=users)
        standin.interaction_deadline = 600
        started = time.monotonic()
        await build_database(url, members, sandbox, TokenVault([key]), guild.id, options.seed)
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
            print(log_tail(data_dir), file=sys.stderr)
            raise
        finally:
            stop_process(process)
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
