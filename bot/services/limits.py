"""Spotify's rate limit, shared by every process of a deployment through the database.

Spotify limits the app, not a process: with several bot processes each spending its own
budget, or pausing alone after a 429, the app as a whole overspends. The app's row of
`spotify_limits` (and one row per listening loop's schedule) holds what they agree on:

- the background sync's schedule: its requests are spaced `grant_spacing(window, sync_budget)`
  apart across all processes (a little under the budget, see there). A process claims the
  next `batch` grants in one UPDATE and sends each at its time; time nobody used is not made
  up for with a burst.
- commands' requests, counted per window (claimed `batch` at a time). Commands are never held
  back by the budget: `interactive_share` requests per window are reserved for them, and each
  one beyond that pushes the sync's schedule back by one grant.
- the listening loops' schedules (recently-played polling, enrichment: `share`), each spaced
  like the sync's in a row of its own, so each source keeps its share across processes;
- the 429 cooldown: a process given a Retry-After raises `cooldown_until` (the later of the
  stored end and its own); every process reads it at least every `poll_seconds` (a background
  task) and holds its client until then, so a 429 anywhere pauses every process within a
  second. The client checks its own copy before every request.

A single process on SQLite works the same way; its writes are a few small transactions a
minute at the default budget. Times are Unix seconds from each process's clock: run NTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

from bot.db.engine import Session, Sessions, session_scope
from bot.services.budget import DEFAULT_WINDOW_SECONDS
from bot.store.spotify_limits import (
    claim_sync_grants,
    count_interactive,
    ensure_limits,
    raise_cooldown,
    read_cooldown,
)

log = logging.getLogger(__name__)

APP_LIMITS = "spotify"
DEFAULT_BATCH = 5
POLL_SECONDS = 0.5
HEADROOM = 0.03


def grant_spacing(window: float, budget: int) -> float:
    """Seconds between grants for `budget` requests per `window`, spaced for 3 % fewer (at least
    one fewer): a grant used late, as any can be by up to a spacing (later ones are dropped),
    then never puts more than `budget` requests into one window. Without it a rolling window
    saw up to 103 of a budget of 100 (bench/recently_played.py)."""
    fewer = max(1, math.ceil(budget * HEADROOM)) if budget > 1 else 0
    return window / (budget - fewer)


class SharedLimits:
    """One process's view of the shared budget and cooldown (see the module's notes)."""

    def __init__(
        self,
        sessions: Sessions,
        *,
        sync_budget: int,
        interactive_share: int,
        window: float = DEFAULT_WINDOW_SECONDS,
        batch: int = DEFAULT_BATCH,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        name: str = APP_LIMITS,
    ) -> None:
        if sync_budget < 1:
            raise ValueError("the sync budget must allow at least one request")
        if window <= 0 or batch < 1 or poll_seconds <= 0:
            raise ValueError("window, batch and poll interval must be positive")
        self.window = window
        self.spacing = grant_spacing(window, sync_budget)
        self.interactive_share = interactive_share
        self._sessions = sessions
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._clock = clock
        self._sleep = sleep
        self._name = name
        self._ready = False
        self._grants: deque[float] = deque()
        self._turn = asyncio.Lock()
        self._counting = asyncio.Lock()
        self._counted_window = -1
        self._counted_left = 0
        self._cooldown_until = 0.0
        self._hold: Callable[[float], object] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._claiming: asyncio.Task[list[float]] | None = None

    def share(self, source: str, budget: int) -> SharedLimits:
        """A background source's own schedule (recently-played polling, enrichment): `budget`
        requests per window across every process, claimed like the sync's from a row of its
        own, so no source eats into another's share. It reads no cooldown itself: the sources
        spend through the client, which this instance holds during any process's cooldown."""
        return SharedLimits(
            self._sessions,
            sync_budget=budget,
            interactive_share=0,
            window=self.window,
            batch=self._batch,
            poll_seconds=self._poll_seconds,
            clock=self._clock,
            sleep=self._sleep,
            name=f"{self._name}:{source}",
        )

    async def start(self, hold: Callable[[float], object] | None = None) -> None:
        """Create the row if needed, read the cooldown, and keep reading it in the background;
        `hold(seconds)` is called whenever another process's cooldown is seen."""
        self._hold = hold
        await self.poll()
        self._poller = asyncio.create_task(self._poll_forever())

    async def close(self) -> None:
        tasks = [t for t in (self._poller, self._claiming, *self._writes) if t is not None]
        if self._poller is not None:
            self._poller.cancel()
        if self._claiming is not None:
            self._claiming.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def cooldown_remaining(self) -> float:
        return max(0.0, self._cooldown_until - self._clock())

    async def poll(self) -> None:
        """Read the shared cooldown once."""
        async with self._scope() as session:
            until = await read_cooldown(session, self._name)
        self._seen(until)

    @contextlib.asynccontextmanager
    async def spend(self) -> AsyncIterator[float]:
        """Wait for this process's next background grant (what `RequestBudget.spend` is for
        one process); gives the grant's time."""
        async with self._turn:
            self._drop_late()
            if not self._grants:
                self._grants.extend(await self._next_grants(self._clock()))
                self._drop_late()
            if not self._grants:  # claimed ahead, but unused until too late
                self._grants.extend(await self._claim_grants(self._clock()))
            at = self._grants.popleft()
            if not self._grants and self._claiming is None:
                # the next batch is claimed while this grant waits and goes, so a slow
                # database write does not hold up the grant after it
                self._claiming = asyncio.create_task(self._claim_grants(self._clock()))
            delay = at - self._clock()
            if delay > 0:
                await self._sleep(delay)
        yield at

    def _drop_late(self) -> None:
        """Grants too late to use without bunching up with later ones."""
        now = self._clock()
        while self._grants and self._grants[0] < now - self.spacing:
            self._grants.popleft()

    async def _next_grants(self, now: float) -> list[float]:
        """The batch claimed ahead if there is one (and it claimed), else a batch claimed now."""
        claiming, self._claiming = self._claiming, None
        if claiming is not None:
            try:
                return await claiming
            except Exception:
                log.warning("claiming Spotify grants ahead failed", exc_info=True)
        return await self._claim_grants(now)

    async def _claim_grants(self, now: float) -> list[float]:
        async with self._scope() as session:
            grants = await claim_sync_grants(session, self._name, now, self._batch, self.spacing)
        self._seen(grants.cooldown_until)
        return grants.times()

    async def count_interactive(self) -> None:
        """Count one command's request; a database round trip every `batch` requests. A
        failure to count is logged, never passed on to the member."""
        async with self._counting:
            current = int(self._clock() // self.window)
            if self._counted_window == current and self._counted_left > 0:
                self._counted_left -= 1
                return
            try:
                async with self._scope() as session:
                    counted = await count_interactive(
                        session,
                        self._name,
                        self._clock(),
                        window=self.window,
                        count=self._batch,
                        share=self.interactive_share,
                        spacing=self.spacing,
                    )
            except Exception:
                log.warning("could not count a Spotify request in the shared budget", exc_info=True)
                return
            self._counted_window, self._counted_left = current, self._batch - 1
            self._seen(counted.cooldown_until)

    def rate_limited(self, retry_after: float) -> None:
        """This process was given a 429: share the cooldown (written in the background)."""
        until = self._clock() + retry_after
        self._cooldown_until = max(self._cooldown_until, until)
        task = asyncio.create_task(self._share(until))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _share(self, until: float) -> None:
        try:
            async with self._scope() as session:
                await raise_cooldown(session, self._name, until)
        except Exception:
            log.warning("could not share a Spotify cooldown", exc_info=True)

    async def _poll_forever(self) -> None:
        while True:
            await self._sleep(self._poll_seconds)
            try:
                await self.poll()
            except Exception:
                log.warning("could not read the shared Spotify cooldown", exc_info=True)

    def _seen(self, until: float) -> None:
        if until > self._cooldown_until:
            self._cooldown_until = until
        remaining = self._cooldown_until - self._clock()
        if remaining > 0 and self._hold is not None:
            self._hold(remaining)

    @contextlib.asynccontextmanager
    async def _scope(self) -> AsyncIterator[Session]:
        async with session_scope(self._sessions) as session:
            if not self._ready:
                await ensure_limits(session, self._name)
                await session.commit()
                self._ready = True
            yield session
