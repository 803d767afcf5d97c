"""Benchmark: recently-played polling of many linked members against the Spotify sandbox.

Links M members (sandbox users plus link rows holding encrypted sandbox tokens; a tenth of them
linked before the listening scopes), scripts their plays in the sandbox and runs two passes of
`RecentlyPlayedPoller.run_once()` within a budget of B requests per window, the poller's
schedule of the shared limits (`SharedLimits.share`, with their 429 cooldown) as in the bot:

1. every member is due (never polled) and has played 1-50 tracks; one 429 with a short
   Retry-After is injected halfway through;
2. three hours later (the poller's clock), every member has played 1-50 more tracks (a quarter
   of them exactly 50, the most Spotify keeps), so everyone is due again.

It reports, per pass and overall:

- the share of the budget used while members were due (target >= 90 %),
- the most requests seen in any rolling window (must not exceed B),
- requests that reached the sandbox inside a 429's Retry-After window (target 0),
- requests for members linked before the listening scopes (target 0),
- plays lost: scripted plays of members who played <= 50 between polls that were not stored
  (target 0).

The default window is shortened to 10 s so that a run takes about a minute::

    .venv/bin/python bench/recently_played.py
    .venv/bin/python bench/recently_played.py --members 1000 --budget 300 --window 10
    .venv/bin/python bench/recently_played.py --database postgresql+asyncpg://...
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's sandbox/

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.db.models import Play, SpotifyLink
from bot.db.vault import TokenVault
from bot.services.accounts import AccountService
from bot.services.limits import SharedLimits
from bot.services.recent import MAX_INTERVAL, RecentlyPlayedPoller
from bot.services.spending import BackgroundSpender
from bot.spotify.client import SpotifyClient
from bot.spotify.scopes import LISTENING_SCOPES
from sandbox.population import linked_member_rows, sandbox_oauth
from sandbox.spotify import RecordedRequest, SpotifySandbox

RECENT_PATH = "/v1/me/player/recently-played"
FIRST_MEMBER_ID = 10**17
SPACING = timedelta(minutes=8)
"""Between two scripted plays of a member: longer than any sandbox track, so no two are one."""
SPOTIFY_KEEPS = 50


@dataclass(frozen=True)
class Options:
    members: int
    budget: int
    window: float
    concurrency: int
    retry_after: float
    seed: int
    database: str | None


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--budget", type=int, default=100, help="requests per window (B)")
    parser.add_argument("--window", type=float, default=10.0, help="budget window, seconds")
    parser.add_argument("--concurrency", type=int, default=4, help="members polled at once")
    parser.add_argument("--retry-after", type=float, default=2.0, help="of the injected 429")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    return Options(
        args.members,
        args.budget,
        args.window,
        args.concurrency,
        args.retry_after,
        args.seed,
        args.database,
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def inject_rate_limit(sandbox: SpotifySandbox, after: int, retry_after: float) -> None:
    while len(sandbox.requests_to(RECENT_PATH)) < after:  # noqa: ASYNC110 (the log has no event)
        await asyncio.sleep(0.05)
    sandbox.faults.rate_limit(retry_after, count=1, path=RECENT_PATH)


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


def script_plays(
    sandbox: SpotifySandbox, users: dict[int, str], start: datetime, rng: random.Random
) -> dict[int, int]:
    """Each member plays 1-50 tracks from `start` (a quarter exactly 50); returns the counts."""
    tracks = sandbox.track_ids()
    counts: dict[int, int] = {}
    for member, user in users.items():
        count = SPOTIFY_KEEPS if rng.random() < 0.25 else rng.randint(1, SPOTIFY_KEEPS)
        for n in range(count):
            sandbox.play(user, rng.choice(tracks), start + n * SPACING)
        counts[member] = count
    return counts


async def stored_plays(sessions: async_sessionmaker[AsyncSession]) -> Counter[int]:
    async with sessions() as session:
        rows = await session.execute(
            select(Play.discord_user_id, func.count()).group_by(Play.discord_user_id)
        )
        return Counter({user: count for user, count in rows})


@dataclass
class PassResult:
    requests: list[RecordedRequest]
    elapsed: float
    outcomes: Counter[str]


async def one_pass(
    poller: RecentlyPlayedPoller, sandbox: SpotifySandbox, inject_after: int | None, retry: float
) -> PassResult:
    sandbox.clear_requests()
    injector = (
        asyncio.create_task(inject_rate_limit(sandbox, inject_after, retry))
        if inject_after is not None
        else None
    )
    started = time.monotonic()
    outcomes = await poller.run_once()
    elapsed = time.monotonic() - started
    if injector is not None:
        injector.cancel()
    return PassResult(sandbox.requests_to(RECENT_PATH), elapsed, Counter(outcomes))


def cooling_seconds(records: list[RecordedRequest]) -> float:
    """Seconds of the pass spent in a 429's Retry-After, when no request may be sent."""
    return sum(float(r.headers["Retry-After"]) for r in records if r.status == 429)


def report(name: str, result: PassResult, options: Options, old_users: set[str]) -> None:
    records = result.requests
    budget_rate = options.budget / options.window
    rate = len(records) / result.elapsed
    open_rate = len(records) / (result.elapsed - cooling_seconds(records))
    old = sum(1 for r in records if r.user_id in old_users)
    print(f"{name}")
    outcomes = {str(outcome): count for outcome, count in result.outcomes.items()}
    print(f"  outcomes           {outcomes}")
    print(f"  requests sent      {len(records)} ({sum(r.status == 429 for r in records)} x 429)")
    print(f"  elapsed            {result.elapsed:.1f} s")
    print(f"  budget used        {rate:.2f}/s = {100 * rate / budget_rate:.1f} % of B overall")
    print(
        f"  outside cooldowns  {open_rate:.2f}/s = {100 * open_rate / budget_rate:.1f} % of B"
        " (target >= 90 %)"
    )
    print(
        f"  most in any window {most_in_any_window(records, options.window)} (<= {options.budget})"
    )
    print(f"  during cooldown    {sent_during_cooldown(records)} requests (target 0)")
    print(f"  old-scope members  {old} requests (target 0)")


async def run(options: Options, data_dir: Path) -> None:
    rng = random.Random(options.seed)
    url = options.database or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
    await upgrade_to_head(url)
    engine = create_engine(url)
    sessions = make_session_factory(engine)
    vault = TokenVault([Fernet.generate_key().decode()])
    clock = Clock()
    async with SpotifySandbox(users=0) as sandbox, aiohttp.ClientSession() as http:
        ids = range(FIRST_MEMBER_ID, FIRST_MEMBER_ID + options.members)
        rows = linked_member_rows(sandbox, vault, ids, synced=True)
        old_users: set[str] = set()
        for index, row in enumerate(rows):
            if index % 10 == 9:
                row["scopes"] = " ".join(
                    s for s in str(row["scopes"]).split() if s not in LISTENING_SCOPES
                )
                old_users.add(str(row["spotify_user_id"]))
        async with session_scope(sessions) as session:
            await session.execute(insert(SpotifyLink), rows)
        users = {int(row["discord_user_id"]): str(row["spotify_user_id"]) for row in rows}
        polled = {member: user for member, user in users.items() if user not in old_users}
        oauth = sandbox_oauth(sandbox, http)
        client = SpotifyClient(http, api_url=sandbox.api_url)
        limits = SharedLimits(  # as the bot has them: B is the poller's schedule of these
            sessions, sync_budget=100, interactive_share=50, window=options.window
        )
        client.limits = limits
        await limits.start(hold=client.hold_cooldown)
        poller = RecentlyPlayedPoller(
            sessions,
            AccountService(sessions, vault, oauth, client),
            BackgroundSpender(client, limits.share("recent", options.budget)),
            clock=clock,
            concurrency=options.concurrency,
        )

        base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        first = script_plays(sandbox, users, base, rng)
        pass1 = await one_pass(poller, sandbox, len(polled) // 2, options.retry_after)
        clock.now += MAX_INTERVAL + timedelta(hours=1)
        second = script_plays(sandbox, users, base + timedelta(days=1), rng)
        pass2 = await one_pass(poller, sandbox, None, options.retry_after)
        stored = await stored_plays(sessions)
        await limits.close()
    await engine.dispose()

    scripted = {member: first[member] + second[member] for member in polled}
    lost = sum(max(0, scripted[m] - stored.get(m, 0)) for m in polled)
    extra = sum(max(0, stored.get(m, 0) - scripted[m]) for m in polled)
    old_stored = sum(stored.get(m, 0) for m in users if m not in polled)
    print(f"members            {len(users)} ({len(old_users)} linked before the scope)")
    print(f"budget B           {options.budget} requests / {options.window:g} s")
    report("pass 1 (all due, a 429 halfway)", pass1, options, old_users)
    report("pass 2 (3 h later, all due again)", pass2, options, old_users)
    print(f"plays scripted     {sum(scripted.values())} (each member <= 50 between polls)")
    print(f"plays stored       {sum(stored.get(m, 0) for m in polled)}")
    print(f"plays lost         {lost} (target 0); stored twice: {extra}")
    print(f"old-scope plays    {old_stored} stored (they are not polled)")


def main() -> None:
    options = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as data_dir:
        asyncio.run(run(options, Path(data_dir)))


if __name__ == "__main__":
    main()
