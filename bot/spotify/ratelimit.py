"""The client-wide pause after a 429: Spotify's rate limit is per app, not per member."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from bot.spotify.errors import RateLimited


class Cooldown:
    """Holds every request back until the longest Retry-After seen so far has passed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until = 0.0

    def remaining(self) -> float:
        return max(0.0, self._until - self._clock())

    def hold(self, seconds: float) -> float:
        """Extend the pause to at least `seconds` from now; returns how much longer it got."""
        now = self._clock()
        until = max(self._until, now + seconds)
        added = until - max(self._until, now)
        self._until = until
        return added

    async def wait(self, max_wait: float) -> None:
        """Sleep out the pause, or raise RateLimited at once if it is longer than `max_wait`."""
        while (remaining := self.remaining()) > 0:
            if remaining > max_wait:
                raise RateLimited(remaining)
            await asyncio.sleep(remaining)


class SharedLimits(Protocol):
    """The app's limits as every process of a deployment shares them (the services hold the
    implementation; the client only reports to it)."""

    async def count_interactive(self) -> None:
        """Count one request made for a command (may take a short database round trip)."""

    def rate_limited(self, retry_after: float) -> None:
        """Tell the other processes about a 429's Retry-After (without waiting)."""
