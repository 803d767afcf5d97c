"""Benchmark: one background sync pass over many members against the Spotify sandbox.

Creates the members cheaply (sandbox users plus link rows holding encrypted sandbox tokens),
runs `SyncService.run_once()` within a budget of B requests per window, injects one 429 with
a short Retry-After halfway through, and reports:

- achieved request rate as a percentage of the budget (target >= 90 %),
- the most requests seen by the sandbox in any rolling window (must not exceed B),
- requests that reached the sandbox inside a 429's Retry-After window (target 0),
- snapshots lost: lists missing or empty at the end (target 0 of 6 per member),
- elapsed time and the outcome counts.

The budget is what the sync may spend; the default window is Spotify's 30 s. To keep a run
at one or two minutes use a higher budget or a shorter window, e.g.::

    .venv/bin/python bench/sync.py --members 1000 --budget 1500
    .venv/bin/python bench/sync.py --members 1000 --budget 600 --window 10
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, make_session_factory
from bot.db.migrate import upgrade_to_head
from bot.db.models import TopItem, TopSnapshot
from bot.db.vault import TokenVault
from bot.services.accounts import AccountService
from bot.services.sync import LISTS, SyncService
from bot.spotify.client import SpotifyClient
from sandbox.population import link_members, sandbox_oauth
from sandbox.spotify import RecordedRequest, SpotifySandbox

TOP_PATH = "/v1/me/top"
FIRST_MEMBER_ID = 10**17


@dataclass(frozen=True)
class Options:
    members: int
    budget: int
    window: float
    concurrency: int
    retry_after: float
    inject_at: float
    database: str | None


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=100, help="requests per window (B)")
    parser.add_argument("--window", type=float, default=30.0, help="budget window, seconds")
    parser.add_argument("--concurrency", type=int, default=4, help="members synced at once")
    parser.add_argument("--retry-after", type=float, default=3.0, help="of the injected 429")
    parser.add_argument(
        "--inject-at", type=float, default=0.5, help="fraction of the run when the 429 comes"
    )
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    return Options(
        args.members,
        args.budget,
        args.window,
        args.concurrency,
        args.retry_after,
        args.inject_at,
        args.database,
    )


async def inject_rate_limit(sandbox: SpotifySandbox, after: int, retry_after: float) -> None:
    while len(sandbox.requests_to(TOP_PATH)) < after:  # noqa: ASYNC110 (the log has no event)
        await asyncio.sleep(0.05)
    sandbox.faults.rate_limit(retry_after, count=1, path=TOP_PATH)


def most_in_any_window(records: list[RecordedRequest], window: float) -> int:
    times = sorted(record.at for record in records)
    return max(
        (bisect.bisect_left(times, start + window) - i for i, start in enumerate(times)),
        default=0,
    )


def sent_during_cooldown(records: list[RecordedRequest]) -> int:
    """Requests that arrived after a 429 and before its Retry-After had passed."""
    inside = 0
    for limited in (record for record in records if record.status == 429):
        until = limited.at + float(limited.headers["Retry-After"])
        inside += sum(1 for record in records if limited.at < record.at < until)
    return inside


async def lists_in_place(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Snapshots holding as many ranked items as they say, and at least one."""
    async with sessions() as session:
        counts = (
            select(
                TopItem.discord_user_id,
                TopItem.kind,
                TopItem.time_range,
                func.count().label("ranked"),
            )
            .group_by(TopItem.discord_user_id, TopItem.kind, TopItem.time_range)
            .subquery()
        )
        whole = await session.scalar(
            select(func.count())
            .select_from(TopSnapshot)
            .join(
                counts,
                (counts.c.discord_user_id == TopSnapshot.discord_user_id)
                & (counts.c.kind == TopSnapshot.kind)
                & (counts.c.time_range == TopSnapshot.time_range),
            )
            .where(TopSnapshot.item_count > 0, counts.c.ranked == TopSnapshot.item_count)
        )
    return whole or 0


async def run(options: Options, data_dir: Path) -> None:
    url = options.database or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = make_session_factory(engine)
    vault = TokenVault([Fernet.generate_key().decode()])
    expected = options.members * len(LISTS)
    async with SpotifySandbox(users=0) as sandbox, aiohttp.ClientSession() as http:
        ids = range(FIRST_MEMBER_ID, FIRST_MEMBER_ID + options.members)
        members = await link_members(sessions, sandbox, vault, ids, synced=False)
        oauth = sandbox_oauth(sandbox, http)
        client = SpotifyClient(http, api_url=sandbox.api_url)
        sync = SyncService(
            sessions,
            AccountService(sessions, vault, oauth, client),
            client,
            interval=timedelta(hours=12),
            budget=options.budget,
            window=options.window,
            concurrency=options.concurrency,
        )
        injector = asyncio.create_task(
            inject_rate_limit(sandbox, int(expected * options.inject_at), options.retry_after)
        )
        started = time.monotonic()
        outcomes = await sync.run_once()
        elapsed = time.monotonic() - started
        injector.cancel()
        records = sandbox.requests_to(TOP_PATH)
        whole = await lists_in_place(sessions)
    await engine.dispose()

    rate = len(records) / elapsed
    budget_rate = options.budget / options.window
    print(f"members            {len(members)}")
    print(f"budget B           {options.budget} requests / {options.window:g} s")
    print(f"outcomes           {dict(outcomes)}")
    print(f"requests sent      {len(records)} (6 per member = {expected}, plus retries)")
    print(f"rate limited       {sum(1 for r in records if r.status == 429)} x 429")
    print(f"elapsed            {elapsed:.1f} s")
    print(f"achieved rate      {rate:.2f}/s = {100 * rate / budget_rate:.1f} % of B (>= 90 %)")
    print(f"most in any window {most_in_any_window(records, options.window)} (<= {options.budget})")
    print(f"during cooldown    {sent_during_cooldown(records)} requests (target 0)")
    print(f"snapshots lost     {expected - whole} of {expected} (target 0)")


def main() -> None:
    options = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as data_dir:
        asyncio.run(run(options, Path(data_dir)))


if __name__ == "__main__":
    main()
