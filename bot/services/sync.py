"""Background sync: keeps every active member's six top lists fresh within a request budget.

Claiming. Several bot processes may share one database, and two of them must never sync the
same member at once. A member is claimed in a short transaction that moves its `sync_due_at`
forward by a lease (10 minutes), so every other process sees it as not due and skips it.
On PostgreSQL the transaction first picks the most overdue member with `SELECT ... ORDER BY
sync_due_at LIMIT 1 FOR UPDATE SKIP LOCKED` (concurrent claimers take different rows instead
of waiting; the row lock holds until commit), then updates that row. On SQLite it is a single
`UPDATE ... WHERE discord_user_id IN (SELECT ... LIMIT 1) RETURNING ...`: as the first
statement of its transaction it takes the database's single write lock before reading, which
makes the pick-and-update atomic. The lease value is the claim's fencing token: renewing it
(after a long cooldown), storing the lists and putting the member back all compare
`sync_due_at` with it, so a process whose lease ran out and was taken over writes nothing.
A member whose sync was interrupted (crash, shutdown) is due again when its lease ends.

A member's six lists and their new due time are stored in one transaction after all six were
fetched: a failed sync leaves the previous lists whole and puts the member back with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from bot.db.engine import Session, Sessions, session_scope
from bot.domain import ItemKind, TimeRange
from bot.services.accounts import AccountService
from bot.services.budget import DEFAULT_WINDOW_SECONDS, Budget, RequestBudget
from bot.services.items import ItemSummary
from bot.services.member_turns import (
    IDLE_POLL_SECONDS,
    MIN_IDLE_SECONDS,
    Backoff,
    LeaseLost,
    Quota,
    Turn,
    retry_collisions,
    run_passes,
    take_turn,
)
from bot.services.top import fetch_top
from bot.spotify.client import SpotifyClient
from bot.spotify.errors import RateLimited
from bot.store.snapshots import replace_snapshot
from bot.store.sync_claims import claim_member, claim_most_overdue, next_due, update_claimed

T = TypeVar("T")

LISTS: tuple[tuple[ItemKind, TimeRange], ...] = tuple(
    (kind, time_range) for kind in (ItemKind.ARTIST, ItemKind.TRACK) for time_range in TimeRange
)
DEFAULT_LEASE = timedelta(minutes=10)
DEFAULT_CONCURRENCY = 4
JITTER = 0.05


class SyncOutcome(StrEnum):
    SYNCED = "synced"  # all six lists stored
    DEFERRED = "deferred"  # failed or rate limited: due again later
    STOPPED = "stopped"  # revoked, broken or not allow-listed: not retried until /link
    SKIPPED = "skipped"  # not linked, not active, not due, or taken over by another process


_OUTCOMES = {
    Turn.DONE: SyncOutcome.SYNCED,
    Turn.DEFERRED: SyncOutcome.DEFERRED,
    Turn.STOPPED: SyncOutcome.STOPPED,
    Turn.SKIPPED: SyncOutcome.SKIPPED,
}


@dataclass
class _Claim:
    user_id: int
    lease_until: datetime


@dataclass
class _Pass:
    outcomes: Counter[SyncOutcome]
    quota: Quota


def _now() -> datetime:
    return datetime.now(UTC)


def _jittered(delay: timedelta) -> timedelta:
    return delay * random.uniform(1 - JITTER, 1 + JITTER)


async def _update_held(session: Session, claim: _Claim, **values: datetime) -> None:
    """Update the claimed member's link while the claim still holds, else raise LeaseLost."""
    if not await update_claimed(session, claim.user_id, claim.lease_until, **values):
        raise LeaseLost()


class SyncService:
    """Keeps linked members' top artists and tracks (3 ranges each) stored and fresh.

    `budget` requests per `window` seconds is what the sync may spend (a number: this process
    alone; or a shared `Budget`); the rest of Spotify's rate limit is left to interactive
    commands. The client's shared 429 cooldown is slept out
    before every request, and the member API is background-flavoured (`interactive=False`) so
    the client itself waits out Retry-After values up to its background cap.
    """

    def __init__(
        self,
        sessions: Sessions,
        accounts: AccountService,
        spotify_client: SpotifyClient,
        *,
        interval: timedelta,
        budget: int | Budget,
        clock: Callable[[], datetime] = _now,
        window: float = DEFAULT_WINDOW_SECONDS,
        concurrency: int = DEFAULT_CONCURRENCY,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._sessions = sessions
        self._accounts = accounts
        self._client = spotify_client
        self._interval = interval
        self._budget = RequestBudget(budget, window) if isinstance(budget, int) else budget
        self._clock = clock
        self._stopping = asyncio.Event()
        self._concurrency = concurrency
        self._lease = lease
        self._backoff = Backoff(interval, JITTER)
        self._running: dict[int, asyncio.Future[SyncOutcome]] = {}
        self._on_demand = asyncio.Semaphore(concurrency)
        """At most `concurrency` members synced on demand at once (one per new link): when
        hundreds link at once, the rest wait their turn holding nothing, instead of all
        fetching together and holding every member's lists until the stores catch up."""
        self._writing = asyncio.Lock()

    async def run_forever(self) -> None:
        """Sync due members pass after pass until stopped or cancelled.

        Between passes it sleeps until the next member is due, at most a minute. Cancelling
        stops it at once; a member cut off mid-sync keeps its old lists and is due again when
        its lease ends.
        """
        await run_passes(self.run_once, self._idle_seconds, self._stopping, what="sync")

    def stop(self) -> None:
        """Ask `run_forever` to return after the pass under way (a gentler end than cancel,
        which can cut a database call short)."""
        self._stopping.set()

    async def run_once(self, max_members: int | None = None) -> Counter[SyncOutcome]:
        """Sync members until none is due (or `max_members` were claimed); counts the outcomes."""
        run = _Pass(Counter(), Quota(max_members))
        async with asyncio.TaskGroup() as group:
            for _ in range(self._concurrency):
                group.create_task(self._work(run))
        return run.outcomes

    async def sync_member(self, user_id: int) -> SyncOutcome:
        """Sync one member now if due (a new link is), waiting for a sync already under way;
        `concurrency` such syncs at a time, first come first served.

        Waits out a cooldown only up to the client's background cap; beyond that the member
        is put back and DEFERRED is returned.
        """
        running = self._running.get(user_id)
        if running is None:
            async with self._on_demand:
                running = self._running.get(user_id)
                if running is None:
                    claim = await self._claim(user_id)
                    if claim is None:
                        return SyncOutcome.SKIPPED
                    return await self._run_claimed(
                        claim, max_pause=self._client.background_max_wait
                    )
        await asyncio.wait({running})
        return SyncOutcome.SKIPPED if running.cancelled() else running.result()

    async def _work(self, run: _Pass) -> None:
        while run.quota.take():
            await self._pause_for_cooldown(max_pause=None)
            claim = await self._claim(None)
            if claim is None:
                return
            run.outcomes[await self._run_claimed(claim, max_pause=None)] += 1

    async def _claim(self, user_id: int | None) -> _Claim | None:
        now = self._clock()
        lease_until = now + self._lease
        async with session_scope(self._sessions) as session:
            if user_id is not None:
                claimed = await claim_member(session, user_id, now, lease_until)
            else:
                claimed = await claim_most_overdue(session, now, lease_until)
        return None if claimed is None else _Claim(claimed, lease_until)

    async def _run_claimed(self, claim: _Claim, *, max_pause: float | None) -> SyncOutcome:
        done: asyncio.Future[SyncOutcome] = asyncio.get_running_loop().create_future()
        self._running[claim.user_id] = done
        try:
            outcome = await self._sync(claim, max_pause)
            done.set_result(outcome)
            return outcome
        finally:
            del self._running[claim.user_id]
            if not done.done():
                done.cancel()

    async def _sync(self, claim: _Claim, max_pause: float | None) -> SyncOutcome:
        async def work() -> Turn:
            await self._store(claim, await self._fetch_lists(claim, max_pause))
            return Turn.DONE

        turn = await take_turn(
            claim.user_id,
            work,
            accounts=self._accounts,
            backoff=self._backoff,
            put_back=functools.partial(self._put_back, claim),
            what="sync",
        )
        return _OUTCOMES[turn]

    async def _fetch_lists(self, claim: _Claim, max_pause: float | None) -> list[list[ItemSummary]]:
        """The member's lists. A 403 that is the Development-Mode allow-list comes as
        NotAllowListed: the client asks GET /me itself when a 403 does not say why."""
        api = self._accounts.api(claim.user_id, interactive=False)
        return [
            await self._request(
                claim, functools.partial(fetch_top, api, kind, time_range), max_pause
            )
            for kind, time_range in LISTS
        ]

    async def _request(
        self, claim: _Claim, fetch: Callable[[], Awaitable[T]], max_pause: float | None
    ) -> T:
        """One Spotify request: never during a cooldown, always within the budget."""
        await self._pause_for_cooldown(max_pause)
        async with self._budget.spend():
            await self._pause_for_cooldown(max_pause)
            await self._keep_lease(claim)
            return await fetch()

    async def _pause_for_cooldown(self, max_pause: float | None) -> None:
        while (remaining := self._client.cooldown_remaining()) > 0:
            if max_pause is not None and remaining > max_pause:
                raise RateLimited(remaining)
            await asyncio.sleep(remaining)

    async def _keep_lease(self, claim: _Claim) -> None:
        """Renew the lease once half of it is gone (a long cooldown), or give the member up."""
        now = self._clock()
        if claim.lease_until - now > self._lease / 2:
            return
        renewed = now + self._lease
        async with session_scope(self._sessions) as session:
            await _update_held(session, claim, sync_due_at=renewed)
        claim.lease_until = renewed

    async def _store(self, claim: _Claim, lists: list[list[ItemSummary]]) -> None:
        """Store the six lists and the next due time in one transaction.

        One store at a time per process: stores take turns at the database anyway (SQLite's
        single writer, PostgreSQL's shared-writes lock), so waiting here keeps the others off
        the connection pool. A deadlock or serialization failure is still retried.
        """

        async def store() -> None:
            async with self._writing:
                await self._store_once(claim, lists)

        await retry_collisions(store, what=f"storing member {claim.user_id}")

    async def _store_once(self, claim: _Claim, lists: list[list[ItemSummary]]) -> None:
        now = self._clock()
        async with session_scope(self._sessions, shared_writes=True) as session:
            await _update_held(
                session, claim, synced_at=now, sync_due_at=now + _jittered(self._interval)
            )
            for (kind, time_range), items in zip(LISTS, lists, strict=True):
                await replace_snapshot(session, claim.user_id, kind, time_range, items, now)

    async def _put_back(self, claim: _Claim, wait: timedelta) -> None:
        async with session_scope(self._sessions) as session:
            with contextlib.suppress(LeaseLost):
                await _update_held(session, claim, sync_due_at=self._clock() + wait)

    async def _idle_seconds(self) -> float:
        """Seconds until the next active member is due, between 1 s and a minute."""
        async with self._sessions() as session:
            due = await next_due(session)
        if due is None:
            return IDLE_POLL_SECONDS
        wait = (due - self._clock()).total_seconds()
        return min(IDLE_POLL_SECONDS, max(MIN_IDLE_SECONDS, wait))
