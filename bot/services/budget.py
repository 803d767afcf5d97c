"""A rolling-window request budget for one process alone (a sync built with a number; a
deployment's processes share `bot.services.limits.SharedLimits` instead)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

DEFAULT_WINDOW_SECONDS = 30.0


class Budget(Protocol):
    """What a background loop spends: `RequestBudget` (this process alone) or a
    `SharedLimits` schedule (every process of the deployment)."""

    def spend(self) -> AbstractAsyncContextManager[object]: ...


class RequestBudget:
    """At most `limit` requests in any `window` seconds, granted evenly spaced.

    A request holds its place in the window from the moment it is granted until `window`
    seconds after it finished, so a slow request (or one that waited out a cooldown) can never
    make the window overflow as Spotify sees it. Grants are spaced `window / limit` apart, so the
    spend is smooth instead of a burst at the start of every window, and time lost to a pause is
    not caught up with a burst afterwards.
    """

    def __init__(self, limit: int, window: float = DEFAULT_WINDOW_SECONDS) -> None:
        if limit < 1:
            raise ValueError("the budget must allow at least one request")
        if window <= 0:
            raise ValueError("the window must be positive")
        self.limit = limit
        self.window = window
        self._spacing = window / limit
        self._finished: deque[float] = deque()
        self._in_flight = 0
        self._next_grant = -math.inf
        self._turn = asyncio.Lock()
        self._released = asyncio.Event()

    @contextlib.asynccontextmanager
    async def spend(self) -> AsyncIterator[None]:
        """Wait for room in the budget, then count the request made inside the block."""
        await self._acquire()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._finished.append(time.monotonic())
            self._released.set()

    async def _acquire(self) -> None:
        async with self._turn:
            while (delay := self._delay()) > 0:
                self._released.clear()
                with contextlib.suppress(TimeoutError):
                    timeout = None if math.isinf(delay) else delay
                    await asyncio.wait_for(self._released.wait(), timeout)
            self._in_flight += 1
            self._next_grant = time.monotonic() + self._spacing

    def _delay(self) -> float:
        """Seconds until the next grant is allowed; infinite while only a release can help."""
        now = time.monotonic()
        while self._finished and self._finished[0] + self.window <= now:
            self._finished.popleft()
        if len(self._finished) + self._in_flight >= self.limit:
            if not self._finished:
                return math.inf
            return self._finished[0] + self.window - now
        return self._next_grant - now
