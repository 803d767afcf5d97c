"""Benchmark: how fast the bot sends its first callback when many commands are in flight.

Builds N linked members with fresh snapshots (as `bench/memory.py` does, in a SQLite file or
--database), starts the Discord stand-in and the Spotify sandbox in this process and runs the
bot as its own process, `python -m bot run`, pointed at them: the stand-ins' work does not
count against the bot's CPU, as Discord's does not in production. After a short warm-up
(commands one at a time, then one untimed burst), bursts of I interactions alternating
/profile and /top artists, each from a different member (wrapping when I > N), are
dispatched in two ways, `--rounds` bursts each:

- concurrent: the I interactions dispatched evenly over `--spread` seconds (0.5); each /top
  artists fetches the member's list from Spotify (snapshots are never fresh enough, and the
  sandbox answers /me/top after `--spotify-latency` seconds, 1 s), so about all of them are in
  flight at once (the most in flight is printed);
- same instant: all I written to the gateway back to back (a stress reading: the bot must
  parse every frame and send every callback in one stretch of its single event loop).

Measured per interaction, from the stand-in writing INTERACTION_CREATE to the bot's websocket
to the bot's first callback reaching it (what Discord's 3 s deadline is about), against the
target p99 <= 100 ms; and, for information, until the bot's last request for the answer. The
stand-in builds and serialises the payloads one after the other in one Python process, which
Discord does not: how long each burst's dispatch took is printed and is not in the figures.
The stand-in's deadline is lifted so late callbacks are timed too; how many were past 3 s is
printed.

The "floor" lines put the same bursts through a bare discord.py client in its own process
(same event loop as the bot) whose one command defers, then sends a follow-up: what this
harness, discord.py and aiohttp cost before the bot does anything of its own.

    .venv/bin/python bench/interactions.py
    .venv/bin/python bench/interactions.py --members 1000 --interactions 400 --rounds 5
    .venv/bin/python bench/interactions.py --spread 1
    .venv/bin/python bench/interactions.py --database postgresql://user@host/empty_db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import discord
from cryptography.fernet import Fernet
from discord import app_commands
from harness import (
    answered,
    bot_environment,
    build_database,
    cpu_seconds,
    free_port,
    log_tail,
    member_ids,
    start_bot,
    start_process,
    stop_process,
    wait_ready,
)

from bot.db.vault import TokenVault
from bot.process.runner import run_event_loop
from sandbox.discord import DiscordStandIn, StandInInteraction, StandInUser
from sandbox.spotify import SpotifySandbox

TARGET_P99_MS = 100.0
COMMANDS = ("profile", "top artists")
WARM_UP = 10
POLL = 0.02
DISCORD_DEADLINE_MS = 3000.0
UNBOUNDED_DEADLINE = 600.0
"""The stand-in's callback deadline during a burst, so that late callbacks are timed too."""
FLOOR_CLIENT = "--floor-client"
"""Argument that makes this script the floor's bare client (run as a child process)."""


@dataclass
class Timings:
    """Milliseconds per interaction of every burst of one way of dispatching: to the first
    callback, to the answer's last request; the CPU time the bot's process and the stand-ins
    used, per interaction (less sensitive than wall time to whatever else runs on the
    machine); how long each burst's dispatch took and the most interactions in flight at once
    (dispatched, answer not complete)."""

    first: list[float] = field(default_factory=list)
    complete: list[float] = field(default_factory=list)
    cpu_ms: float = 0.0
    standin_cpu_ms: float = 0.0
    dispatch_ms: list[float] = field(default_factory=list)
    in_flight: int = 0


@dataclass(frozen=True)
class Phase:
    name: str
    spread: float
    """Seconds over which each burst's interactions are dispatched (0: at once)."""


@dataclass
class Run:
    cold_first: list[float]
    """First callbacks of the untimed burst (the bot opens its connections then)."""
    phases: dict[Phase, Timings]


@dataclass(frozen=True)
class Options:
    members: int
    interactions: int
    rounds: int
    spread: float
    spotify_latency: float
    database: str | None


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200, help="linked members (N)")
    parser.add_argument("--interactions", type=int, default=200, help="per burst (I)")
    parser.add_argument("--rounds", type=int, default=3, help="bursts of each kind")
    parser.add_argument(
        "--spread",
        type=float,
        default=0.5,
        help="seconds over which the concurrent bursts are dispatched (default 0.5)",
    )
    parser.add_argument(
        "--spotify-latency",
        type=float,
        default=1.0,
        help="seconds the sandbox takes to answer /me/top, which every /top artists calls "
        "(0: /top artists answers from the stored, fresh lists)",
    )
    parser.add_argument("--database", help="an empty database's URL (default: a SQLite file)")
    args = parser.parse_args()
    return Options(
        args.members,
        args.interactions,
        args.rounds,
        args.spread,
        args.spotify_latency,
        args.database,
    )


async def fire(
    standin: DiscordStandIn,
    guild_id: int,
    users: list[StandInUser],
    commands: tuple[str, ...],
    count: int,
    shift: int = 0,
    spread: float = 0.0,
) -> list[StandInInteraction]:
    """Dispatch `count` commands without waiting for any answer, at once or evenly over
    `spread` seconds."""
    fired = []
    for n in range(count):
        if spread and n:
            await asyncio.sleep(spread / count)
        fired.append(
            await standin.invoke(
                commands[(shift + n) % len(commands)],
                user=users[(shift + n) % len(users)],
                guild_id=guild_id,
            )
        )
    return fired


def phases(options: Options) -> tuple[Phase, ...]:
    return (
        Phase(f"concurrent: {options.interactions} over {options.spread:g} s", options.spread),
        Phase(f"same instant: {options.interactions} at once", 0.0),
    )


async def bursts(
    standin: DiscordStandIn,
    guild_id: int,
    users: list[StandInUser],
    commands: tuple[str, ...],
    options: Options,
    pid: int,
) -> Run:
    """A warm-up, then `options.rounds` bursts of each phase; timings of every burst.

    The warm-up is a few commands one at a time, then one burst that is not timed: a bot that
    has been running holds enough keep-alive connections to Discord for a burst, a fresh one
    opens them during its first (the untimed burst's figures are printed for information).
    """
    for n in range(WARM_UP):
        await settle(standin, await fire(standin, guild_id, users, commands, 1, n), patience=30)
    await asyncio.sleep(1)
    cold = await fire(standin, guild_id, users, commands, options.interactions, WARM_UP)
    run = Run((await settle(standin, cold, patience=300)).first, {})
    for phase in phases(options):
        timings = Timings()
        cpu = standin_cpu = 0.0
        for round_number in range(options.rounds):
            await asyncio.sleep(1)
            before = cpu_seconds(pid)
            standin_before = cpu_seconds(os.getpid())
            interactions = await fire(
                standin, guild_id, users, commands, options.interactions, round_number, phase.spread
            )
            burst = await settle(standin, interactions, patience=300)
            cpu += cpu_seconds(pid) - before
            standin_cpu += cpu_seconds(os.getpid()) - standin_before
            timings.first += burst.first
            timings.complete += burst.complete
            timings.dispatch_ms.append(dispatch_spread(interactions))
            timings.in_flight = max(timings.in_flight, burst.in_flight)
        timings.cpu_ms = cpu * 1000 / (options.interactions * options.rounds)
        timings.standin_cpu_ms = standin_cpu * 1000 / (options.interactions * options.rounds)
        run.phases[phase] = timings
    return run


@dataclass(frozen=True)
class Burst:
    first: list[float]
    complete: list[float]
    in_flight: int


async def settle(
    standin: DiscordStandIn, interactions: list[StandInInteraction], patience: float
) -> Burst:
    """Milliseconds to the first callback and to the bot's last request for the answer, and
    the most interactions in flight at once.

    Polls rather than waiting on each interaction: hundreds of waiters woken at every change
    of the stand-in would cost this process more than the bookkeeping is worth.
    """
    for _ in range(int(patience / POLL)):
        if all(answered(i) for i in interactions):
            break
        await asyncio.sleep(POLL)
    else:
        missing = sum(1 for i in interactions if not answered(i))
        raise TimeoutError(f"{missing} interactions were not answered within {patience:g} s")
    last: dict[str, float] = {}
    for request in standin.requests:
        for token in request.path.split("/"):
            last[token] = max(last.get(token, 0.0), request.at)
    first = []
    complete = []
    events: list[tuple[float, int]] = []
    for interaction in interactions:
        assert interaction.response is not None and interaction.sent_at is not None
        first.append((interaction.response.at - interaction.sent_at) * 1000)
        complete.append((last[interaction.token] - interaction.sent_at) * 1000)
        events += [(interaction.sent_at, 1), (last[interaction.token], -1)]
    in_flight = most = 0
    for _, change in sorted(events):
        in_flight += change
        most = max(most, in_flight)
    return Burst(first, complete, most)


def dispatch_spread(interactions: list[StandInInteraction]) -> float:
    """Milliseconds from the first payload's creation to the last frame's write."""
    sent = [i.sent_at for i in interactions if i.sent_at is not None]
    return (max(sent) - min(i.created_at for i in interactions)) * 1000


def percentiles(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {cuts[49]:7.1f}  p95 {cuts[94]:7.1f}  p99 {cuts[98]:7.1f}  max {max(values):7.1f} ms"
    )


# --- Encore -------------------------------------------------------------------------------


async def run_encore(options: Options, data_dir: Path) -> Run:
    key = Fernet.generate_key().decode()
    url = options.database or f"sqlite+aiosqlite:///{data_dir / 'encore.db'}"
    port = free_port()
    async with SpotifySandbox(users=0) as sandbox, DiscordStandIn() as standin:
        members = member_ids(options.members)
        users = [standin.add_user(member, f"member{n}") for n, member in enumerate(members)]
        guild = standin.add_guild(name="Bench", members=users)
        started = time.monotonic()
        await build_database(url, members, sandbox, TokenVault([key]), guild.id)
        print(f"data set           built in {time.monotonic() - started:.1f} s")
        env = bot_environment(data_dir, url, key, port, standin, sandbox)
        if options.spotify_latency:
            env["SNAPSHOT_MAX_AGE_MINUTES"] = "0"
            sandbox.faults.latency(options.spotify_latency, path="/me/top")
        process = start_bot(env, data_dir)
        try:
            async with asyncio.timeout(120):
                await wait_ready(process, port)
            standin.interaction_deadline = UNBOUNDED_DEADLINE
            return await bursts(standin, guild.id, users, COMMANDS, options, process.pid)
        except BaseException:
            print(log_tail(data_dir), file=sys.stderr)
            raise
        finally:
            stop_process(process)


# --- the floor ----------------------------------------------------------------------------


class DeferOnly(discord.Client):
    """The least any bot can do: a bare discord.py client whose one command defers first."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default())
        self.tree = app_commands.CommandTree(self)
        self.tree.command(name="ping", description="Defer and nothing else")(self.ping)

    async def ping(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("pong")

    async def setup_hook(self) -> None:
        await self.tree.sync()


def floor_client() -> None:
    """The child process of the floor: DeferOnly against the stand-in named in the env."""
    discord.http.Route.BASE = os.environ["DISCORD_API_URL"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = discord.gateway.yarl.URL(
        os.environ["DISCORD_GATEWAY_URL"]
    )
    run_event_loop(DeferOnly().start(os.environ["DISCORD_TOKEN"]))


async def run_floor(options: Options, data_dir: Path) -> Run:
    async with DiscordStandIn() as standin:
        users = [standin.add_user(name=f"member{n}") for n in range(options.members)]
        guild = standin.add_guild(name="Floor", members=users)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DISCORD_TOKEN": standin.token,
            "DISCORD_API_URL": standin.api_url,
            "DISCORD_GATEWAY_URL": standin.gateway_url,
        }
        command = [sys.executable, __file__, FLOOR_CLIENT]
        process = start_process(command, env, data_dir, "floor.log")
        try:
            await standin.wait_until_ready(timeout=60)  # after setup_hook synced the command
            standin.interaction_deadline = UNBOUNDED_DEADLINE
            return await bursts(standin, guild.id, users, ("ping",), options, process.pid)
        except BaseException:
            print(log_tail(data_dir, "floor.log"), file=sys.stderr)
            raise
        finally:
            stop_process(process)


# --- run ----------------------------------------------------------------------------------


def report(options: Options, encore: Run, floor: Run) -> None:
    kinds = " and ".join(f"/{c}" for c in COMMANDS)
    lists = (
        f"/top artists asks Spotify, which answers after {options.spotify_latency:g} s"
        if options.spotify_latency
        else "/top artists answers from fresh stored lists"
    )
    print(f"members            {options.members} linked; {lists}")
    print(
        f"bursts             {options.rounds} of each kind below ({kinds}), after one untimed "
        "burst at once"
    )
    print(f"  untimed burst: first callback {percentiles(encore.cold_first)}   (new connections)")
    for phase, timings in encore.phases.items():
        first = timings.first
        p99 = statistics.quantiles(first, n=100, method="inclusive")[98]
        verdict = "met" if p99 <= TARGET_P99_MS else "MISSED"
        late = sum(1 for ms in first if ms > DISCORD_DEADLINE_MS)
        spread = ", ".join(f"{ms:.0f}" for ms in timings.dispatch_ms)
        print(
            f"\n{phase.name} (dispatched over {spread} ms, at most {timings.in_flight} in flight)"
        )
        target = f"target p99 <= {TARGET_P99_MS:g} ms: {verdict}"
        print(f"first callback     {percentiles(first)}   {target}")
        print(f"  past Discord's 3 s deadline: {late} of {len(first)}")
        print(f"answer complete    {percentiles(timings.complete)}   (for information)")
        print(
            f"CPU                bot {timings.cpu_ms:.2f} ms, stand-ins "
            f"{timings.standin_cpu_ms:.2f} ms per interaction, whole answer"
        )
        bare = floor.phases[phase]
        print(f"floor              {percentiles(bare.first)}   (bare discord.py client)")
        print(f"floor CPU          {bare.cpu_ms:.2f} ms per interaction (defer, then a follow-up)")


async def run(options: Options, data_dir: Path) -> None:
    encore = await run_encore(options, data_dir)
    floor = await run_floor(options, data_dir)
    report(options, encore, floor)


def main() -> None:
    if sys.argv[1:] == [FLOOR_CLIENT]:
        floor_client()
        return
    options = parse_args()
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as data_dir:
        asyncio.run(run(options, Path(data_dir)))


if __name__ == "__main__":
    main()
