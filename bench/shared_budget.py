"""Benchmark: two bot processes on one PostgreSQL share one Spotify budget and one cooldown.

Starts the Spotify sandbox, links many members due for a sync in a fresh PostgreSQL database,
and runs two processes, each a real `Runtime` with its background sync (what `python -m bot`
runs, without the gateway). Each process reaches the sandbox through its own small proxy,
which says which process sent a request and can answer one of them with a 429 itself. After
`--inject-at` seconds process A's next request gets a 429 with `Retry-After`. Reports:

- requests per 30 s window (all processes, from the sandbox's request record) against the
  budget `SPOTIFY_SYNC_BUDGET` (target: within +-5 % for every full window), and the most
  requests in any rolling window;
- during the cooldown: the requests each process sent after the 429 and how soon the other
  process stopped (target: within a second), and how many any process sent after that
  second until Retry-After had passed (target 0).

    .venv/bin/python bench/shared_budget.py --budget 300 --duration 100

`--database` is a PostgreSQL server's maintenance database; a database is created there for
the run and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bot.config import normalise_database_url
from bot.db.engine import create_engine, make_session_factory
from bot.db.migrate import upgrade_to_head
from bot.db.vault import TokenVault
from sandbox.population import link_members
from sandbox.spotify import SpotifySandbox

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
WINDOW = 30.0
FIRST_MEMBER_ID = 10**17
PAUSE_BOUND = 1.0
FORWARDED_HEADERS = ("Content-Type", "Retry-After")


@dataclass
class Sent:
    process: str
    at: float
    path: str
    status: int


class Proxy:
    """Forwards one process's Web API requests to the sandbox, recording them; `inject`
    makes it answer the next one with a 429 itself."""

    def __init__(self, name: str, upstream: str, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.upstream = upstream.rstrip("/")
        self.http = http
        self.sent: list[Sent] = []
        self.inject_retry_after: float | None = None
        self.injected_at: float | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        path = request.path.removeprefix("/v1")
        if self.inject_retry_after is not None and path.startswith("/me/top"):
            retry_after, self.inject_retry_after = self.inject_retry_after, None
            self.injected_at = at
            self.sent.append(Sent(self.name, at, path, 429))
            return web.json_response(
                {"error": {"status": 429, "message": "API rate limit exceeded"}},
                status=429,
                headers={"Retry-After": f"{retry_after:g}"},
            )
        headers = {k: v for k, v in request.headers.items() if k in ("Authorization",)}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        async with self.http.request(
            request.method,
            self.upstream + path,
            params=request.query,
            data=await request.read() if request.body_exists else None,
            headers=headers,
        ) as upstream:
            body = await upstream.read()
            self.sent.append(Sent(self.name, at, path, upstream.status))
            return web.Response(
                status=upstream.status,
                body=body,
                headers={
                    k: upstream.headers[k] for k in FORWARDED_HEADERS if k in upstream.headers
                },
            )


async def run_child() -> None:
    """One bot process without the gateway: the runtime and its background sync."""
    from bot.config import Settings
    from bot.metrics import Metrics
    from bot.runtime import Runtime

    runtime = Runtime(Settings(), Metrics())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await runtime.start()
    runtime.start_sync()
    print("ready", flush=True)
    try:
        await stop.wait()
    finally:
        await runtime.close()


async def create_database(server: str) -> tuple[str, str]:
    admin = make_url(normalise_database_url(server))
    name = f"encore_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return dsn, admin.set(database=name).render_as_string(hide_password=False)


async def drop_database(dsn: str, url: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await connection.close()


def child_env(
    url: str, key: str, sandbox: SpotifySandbox, proxy: Proxy, budget: int
) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "TOKEN_ENCRYPTION_KEY": key,
        "DISCORD_TOKEN": "bench",
        "SPOTIFY_CLIENT_ID": "sandbox-client",
        "SPOTIFY_CLIENT_SECRET": "sandbox-secret",
        "SPOTIFY_API_URL": proxy.url,
        "SPOTIFY_ACCOUNTS_URL": sandbox.accounts_url,
        "SPOTIFY_SYNC_BUDGET": str(budget),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def windows(times: list[float], start: float, end: float) -> list[int]:
    """Requests in each full window from `start`."""
    counts = []
    edge = start
    while edge + WINDOW <= end:
        counts.append(bisect.bisect_left(times, edge + WINDOW) - bisect.bisect_left(times, edge))
        edge += WINDOW
    return counts


def most_in_any_window(times: list[float]) -> int:
    return max((bisect.bisect_left(times, t + WINDOW) - i for i, t in enumerate(times)), default=0)


async def run(args: argparse.Namespace, data_dir: Path) -> None:
    dsn, url = await create_database(args.database)
    key = Fernet.generate_key().decode()
    children: list[asyncio.subprocess.Process] = []
    try:
        await upgrade_to_head(url)
        engine = create_engine(url)
        async with SpotifySandbox(users=0) as sandbox, aiohttp.ClientSession() as http:
            await link_members(
                make_session_factory(engine),
                sandbox,
                TokenVault([key]),
                range(FIRST_MEMBER_ID, FIRST_MEMBER_ID + args.members),
                synced=False,
            )
            await engine.dispose()
            proxies = {name: Proxy(name, sandbox.api_url, http) for name in ("A", "B")}
            for proxy in proxies.values():
                await proxy.start()
            for name, proxy in proxies.items():
                log = (data_dir / f"{name}.log").open("wb")
                children.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        __file__,
                        "--child",
                        env=child_env(url, key, sandbox, proxy, args.budget),
                        cwd=data_dir,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            started = time.monotonic()
            await asyncio.sleep(args.inject_at)
            proxies["A"].inject_retry_after = args.retry_after
            await asyncio.sleep(max(0.0, args.duration - args.inject_at))
            ended = time.monotonic()
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                await asyncio.wait_for(child.wait(), 30)
            api = sandbox.requests_to("/me/top")
            sent = sorted(
                (s for p in proxies.values() for s in p.sent if s.path.startswith("/me/top")),
                key=lambda s: s.at,
            )
            proxies_injected_at = proxies["A"].injected_at
            for proxy in proxies.values():
                await proxy.close()
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
        await drop_database(dsn, url)

    times = sorted(r.at for r in api)
    first = times[0] if times else started
    per_window = windows(times, first, ended)
    injected_at = proxies_injected_at

    def cooldown_in(index: int) -> bool:
        if injected_at is None:
            return False
        start = first + index * WINDOW
        return start < injected_at + args.retry_after and injected_at < start + WINDOW

    print(f"processes            2 (A, B) on PostgreSQL, {args.members} members due")
    print(f"budget               {args.budget} requests / {WINDOW:g} s (SPOTIFY_SYNC_BUDGET)")
    print(f"requests at sandbox  {len(times)} in {ended - first:.1f} s")
    for i, count in enumerate(per_window):
        off = 100 * (count - args.budget) / args.budget
        span = f"{i * WINDOW:>3g}-{(i + 1) * WINDOW:g} s"
        paused = " (holds the cooldown)" if cooldown_in(i) else ""
        print(f"  window {i + 1} ({span})  {count:>5}  ({off:+.1f} %){paused}")
    print(f"most in any rolling  {most_in_any_window(times)} (budget {args.budget})")
    per_process = {name: sum(1 for s in sent if s.process == name) for name in ("A", "B")}
    print(f"sent by process      {per_process}")
    if injected_at is None:
        print("the 429 was never injected (no request from A after --inject-at)")
        return
    until = injected_at + args.retry_after
    print(
        f"429 to A             at {injected_at - first:.2f} s, Retry-After {args.retry_after:g} s"
    )
    for name in ("A", "B"):
        during = [
            s.at - injected_at for s in sent if s.process == name and injected_at < s.at < until
        ]
        last = f", last {max(during):.2f} s after the 429" if during else ""
        print(f"  {name} sent during the cooldown  {len(during)}{last}")
    late = [s for s in sent if injected_at + PAUSE_BOUND <= s.at < until]
    print(
        f"  any process from {PAUSE_BOUND:g} s after the 429 until Retry-After passed: "
        f"{len(late)} (target 0)"
    )
    resumed = [s.at - until for s in sent if s.at >= until]
    if resumed:
        print(f"  first request after the cooldown  {resumed[0]:+.2f} s from its end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=300, help="SPOTIFY_SYNC_BUDGET")
    parser.add_argument("--duration", type=float, default=100.0, help="seconds to run")
    parser.add_argument("--inject-at", type=float, default=50.0, help="seconds until the 429")
    parser.add_argument("--retry-after", type=float, default=5.0)
    parser.add_argument("--database", default=DEFAULT_SERVER, help="PostgreSQL maintenance DB")
    args = parser.parse_args()
    if args.child:
        asyncio.run(run_child())
        return
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as data_dir:
        asyncio.run(run(args, Path(data_dir)))


if __name__ == "__main__":
    main()
