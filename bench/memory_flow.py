"""Benchmark: resident memory of the bot after members link and sync through the real flow.

bench/memory.py loads its members straight into the database; this one has the bot do the
work, as an outside run does. The Discord stand-in (one guild of `--members`, members intent
on, presences off) and the Spotify sandbox run here; the bot runs as its own process
(`python -m bot run`, SQLite in a temporary folder) so only its memory counts. Then:

1. every member runs /link and walks the reply's button through the bot's /link page, the
   sandbox's consent page and the bot's OAuth callback (`--concurrency` browsers at a time),
   over HTTP against the bot's web server;
2. the bot's own first sync after each link, and its background sync (`SPOTIFY_SYNC_BUDGET`
   set to `--budget`), fetch every member's six top lists; done when every link has synced;
3. a burst of commands (bench/memory.py's: /profile, /top artists, /top tracks, /saved tracks,
   /privacy) from members at random, `--wave` at a time.

Prints VmRSS and the peak VmHWM after startup, after linking, after the sync and after the
commands (and `--linger` seconds later) against the target (<= 150 MB). `--trace` runs the bot
under tracemalloc (bench/memory.py's bootstrap) and prints the largest allocations at each of
those moments and what changed in between (the RSS is then inflated by tracemalloc itself).

    .venv/bin/python bench/memory_flow.py
    .venv/bin/python bench/memory_flow.py --members 300 --trace
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from harness import (
    bot_environment,
    free_port,
    log_tail,
    member_ids,
    stop_process,
    wait_ready,
)
from memory import (
    Memory,
    burst,
    print_trace,
    settled_memory,
    start_bot,
    trace_snapshot,
    wait_answering,
)
from memory import Options as BurstOptions
from sqlalchemy import func, select

from bot.db.engine import create_engine
from bot.db.models import SpotifyLink
from sandbox.browser import consent, new_browser, submit
from sandbox.demo import link_button_url
from sandbox.discord import DiscordStandIn
from sandbox.discord_models import StandInGuild, StandInUser
from sandbox.spotify import SpotifySandbox

TARGET_MB = 150.0
POLL = 0.5


@dataclass(frozen=True)
class Options:
    members: int
    concurrency: int
    budget: int
    commands: int
    wave: int
    trace: bool
    seed: int
    linger: float


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10, help="members linking at once")
    parser.add_argument(
        "--budget", type=int, default=20_000, help="SPOTIFY_SYNC_BUDGET (requests per 30 s)"
    )
    parser.add_argument("--commands", type=int, default=1000, help="commands in the burst")
    parser.add_argument("--wave", type=int, default=200, help="commands dispatched at once")
    parser.add_argument("--trace", action="store_true", help="show allocations (tracemalloc)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--linger", type=float, default=0, help="seconds to wait after the burst, then measure"
    )
    a = parser.parse_args()
    return Options(
        a.members, a.concurrency, a.budget, a.commands, a.wave, a.trace, a.seed, a.linger
    )


# --- linking through the flow -------------------------------------------------------------


class Linker:
    """Members walking /link as a browser would. The sandbox's consent page answers for one
    Spotify user at a time (`authorizing_user`), so that step takes turns; the rest (the
    command, the bot's pages, the callback) runs `concurrency` members at once."""

    def __init__(
        self, standin: DiscordStandIn, sandbox: SpotifySandbox, guild: StandInGuild
    ) -> None:
        self._standin = standin
        self._sandbox = sandbox
        self._guild = guild
        self._consent_turn = asyncio.Lock()
        self.failures: list[str] = []

    async def link(self, member: StandInUser, spotify_user: str) -> None:
        interaction = await self._standin.invoke("link", user=member, guild_id=self._guild.id)
        reply = await interaction.wait_message(timeout=120)
        url = link_button_url(reply)
        async with new_browser() as browser:
            async with browser.get(url, allow_redirects=False) as response:
                page = await response.text()
                if response.status != 200:
                    self.failures.append(f"{member.name}: /link page {response.status}")
                    return
            sent = await submit(browser, url, page)
            if sent.status != 303:
                self.failures.append(f"{member.name}: /link form {sent.status}")
                return
            async with self._consent_turn:
                self._sandbox.authorizing_user = spotify_user
                callback = await consent(browser, sent.headers["Location"])
            async with browser.get(callback, allow_redirects=False) as response:
                await response.read()
                if response.status != 200:
                    self.failures.append(f"{member.name}: callback {response.status}")

    async def link_all(self, pairs: list[tuple[StandInUser, str]], concurrency: int) -> None:
        queue = list(reversed(pairs))

        async def walker() -> None:
            while queue:
                member, spotify_user = queue.pop()
                await self.link(member, spotify_user)

        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(walker())


async def links_synced(url: str) -> tuple[int, int]:
    """(links, links synced at least once), read from the bot's database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            total = await connection.scalar(select(func.count()).select_from(SpotifyLink))
            synced = await connection.scalar(
                select(func.count())
                .select_from(SpotifyLink)
                .where(SpotifyLink.synced_at.is_not(None))
            )
    finally:
        await engine.dispose()
    return int(total or 0), int(synced or 0)


async def wait_synced(url: str, members: int, process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited with {process.returncode}")
        total, synced = await links_synced(url)
        if total >= members and synced >= members:
            return time.monotonic() - started
        await asyncio.sleep(POLL)


# --- run ----------------------------------------------------------------------------------


@dataclass
class Moment:
    label: str
    memory: Memory
    trace: tracemalloc.Snapshot | None


def line(moment: Moment, note: str) -> str:
    memory = moment.memory
    met = "met" if memory.rss <= TARGET_MB else "MISSED"
    peak = " (peak over)" if memory.peak > TARGET_MB else ""
    return (
        f"{moment.label:<19}RSS {memory.rss:6.1f} MB  peak {memory.peak:6.1f} MB  "
        f"target <= {TARGET_MB:g} MB: {met}{peak}{note}\n"
        f"{'':19}heap {memory.anon:.1f} MB, mapped files {memory.file:.1f} MB, "
        f"{memory.threads} threads, {memory.db_files} database files open"
    )


async def run(options: Options, data_dir: Path) -> None:
    key = Fernet.generate_key().decode()
    url = f"sqlite+aiosqlite:///{data_dir / 'encore.db'}"
    port = free_port()
    trace_file = data_dir / "trace.snapshot" if options.trace else None
    moments: list[Moment] = []
    redirect = f"http://127.0.0.1:{port}/callback"
    async with (
        SpotifySandbox(users=options.members, redirect_uris=[redirect]) as sandbox,
        DiscordStandIn() as standin,
    ):
        ids = member_ids(options.members)
        users = [standin.add_user(user, f"member{n}") for n, user in enumerate(ids)]
        guild = standin.add_guild(name="Linking Guild", members=users)
        standin.interaction_deadline = 600
        env = bot_environment(data_dir, url, key, port, standin, sandbox)
        env["SPOTIFY_SYNC_BUDGET"] = str(options.budget)
        process = start_bot(env, data_dir, trace_file)

        async def measure(label: str) -> None:
            memory = await settled_memory(process.pid)
            trace = await trace_snapshot(process, trace_file) if trace_file else None
            moments.append(Moment(label, memory, trace))
            print(f"{label}: RSS {memory.rss:.1f} MB", file=sys.stderr, flush=True)

        try:
            async with asyncio.timeout(300):
                await wait_ready(process, port)
                await wait_answering(standin, guild.id, users[0])
            await measure("after startup")
            linker = Linker(standin, sandbox, guild)
            started = time.monotonic()
            async with asyncio.timeout(3600):
                await linker.link_all(
                    list(zip(users, sandbox.users, strict=True)), options.concurrency
                )
            link_seconds = time.monotonic() - started
            await measure("after linking")
            async with asyncio.timeout(3600):
                sync_seconds = await wait_synced(url, options.members, process)
            await measure("after sync")
            started = time.monotonic()
            burst_options = BurstOptions(
                options.members, options.commands, options.wave, options.trace, options.seed, 0
            )
            answered = await burst(standin, guild.id, users, burst_options)
            burst_seconds = time.monotonic() - started
            moments.append(
                Moment(
                    "after commands",
                    Memory.of(process.pid),
                    await trace_snapshot(process, trace_file) if trace_file else None,
                )
            )
            if options.linger:
                await asyncio.sleep(options.linger)
                await measure(f"{options.linger:g} s later")
        except BaseException:
            print(log_tail(data_dir), file=sys.stderr)
            raise
        finally:
            stop_process(process)
    print(f"members            {options.members} in one guild (members intent on, presences off)")
    print(
        f"linking            {options.members - len(linker.failures)} of {options.members} "
        f"linked through /link, the bot's page, the consent page and the callback in "
        f"{link_seconds:.1f} s, {options.concurrency} at a time"
    )
    for failure in linker.failures[:5]:
        print(f"                   failed: {failure}")
    print(
        f"sync               every link synced {sync_seconds:.1f} s after the last callback "
        f"(SPOTIFY_SYNC_BUDGET={options.budget})"
    )
    print(
        f"burst              {answered} of {options.commands} commands answered in "
        f"{burst_seconds:.1f} s, {options.wave} at a time"
    )
    note = "  (under tracemalloc: not comparable)" if options.trace else ""
    for moment in moments:
        print(line(moment, note))
    previous: tracemalloc.Snapshot | None = None
    for moment in moments:
        if moment.trace is not None:
            print_trace(moment.label, moment.trace, previous)
            previous = moment.trace


def main() -> None:
    options = parse_args()
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as data_dir:
        asyncio.run(run(options, Path(data_dir)))


if __name__ == "__main__":
    main()
