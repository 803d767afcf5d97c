"""Where the listening loops (recently-played polling, enrichment) meet the request budget and
the 429 cooldown: every background Spotify request they make goes through `BackgroundSpender`.

In the bot each loop spends its own schedule of the shared limits (`SharedLimits.share`:
its budget counted across every process, like the sync's), and the cooldown is the client's,
which the shared limits hold whenever any process was given a 429."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.services.budget import DEFAULT_WINDOW_SECONDS, Budget, RequestBudget
from bot.spotify.client import SpotifyClient
from bot.spotify.errors import RateLimited

T = TypeVar("T")


class BackgroundSpender:
    """Requests within `budget` (a number: at most that many per `window` seconds in this
    process alone), none while the client cools down."""

    def __init__(
        self, client: SpotifyClient, budget: int | Budget, window: float = DEFAULT_WINDOW_SECONDS
    ) -> None:
        self._client = client
        self.budget = RequestBudget(budget, window) if isinstance(budget, int) else budget

    def cooldown_remaining(self) -> float:
        return self._client.cooldown_remaining()

    async def pause_for_cooldown(self, max_pause: float | None = None) -> None:
        """Sleep out the client's cooldown; RateLimited at once if it is longer than `max_pause`."""
        while (remaining := self._client.cooldown_remaining()) > 0:
            if max_pause is not None and remaining > max_pause:
                raise RateLimited(remaining)
            await asyncio.sleep(remaining)

    async def call(self, fetch: Callable[[], Awaitable[T]], *, max_pause: float | None = None) -> T:
        """One Spotify request: never during a cooldown, always within the budget. A grant
        that comes due during a cooldown is given up, not used when it ends: every task
        waiting then would send at the same instant."""
        while True:
            await self.pause_for_cooldown(max_pause)
            async with self.budget.spend():
                if self._client.cooldown_remaining() > 0:
                    continue
                return await fetch()
