"""Per-member limits on actions that write to Spotify or cost several calls.

Spotify's rate limit is per application, so one member spamming `/serverplaylist` or a Share
button could push everyone into a shared 429 cooldown. Each (member, action) pair gets its own
sliding window, so one member's burst only ever refuses that member.

The windows live in this process's memory. With several processes a member could get the
allowance once per process; the app-wide Spotify budget and cooldown still protect the
application as a whole. Memory stays bounded: windows whose last use has expired are dropped,
and beyond `max_keys` live windows the least recently used are forgotten.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.domain import TooFast


class Action(enum.StrEnum):
    SERVER_PLAYLIST = "serverplaylist"
    LIBRARY_CHANGE = "library change"  # /save, /unsave, /follow, /unfollow
    SHARE_BUTTON = "share button"
    CHART = "chart"
    WRAPPED = "wrapped"
    RECOMMEND = "recommend"
    TOP = "top"
    SEARCH = "search"  # autocomplete of /save, /follow, /share…


@dataclass(frozen=True)
class Rate:
    count: int
    per_seconds: float


DEFAULT_RATES: Mapping[Action, Rate] = {
    Action.SERVER_PLAYLIST: Rate(1, 600),
    Action.LIBRARY_CHANGE: Rate(10, 60),
    Action.SHARE_BUTTON: Rate(5, 30),
    Action.CHART: Rate(3, 60),
    Action.WRAPPED: Rate(5, 60),
    Action.RECOMMEND: Rate(3, 60),
    Action.TOP: Rate(10, 60),
    Action.SEARCH: Rate(4, 2),
}
MAX_KEYS = 10_000


class MemberLimiter:
    def __init__(
        self,
        rates: Mapping[Action, Rate] = DEFAULT_RATES,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rates = dict(rates)
        self._max_keys = max_keys
        self._clock = clock
        self._windows: dict[tuple[int, Action], deque[float]] = {}
        self._longest = max((rate.per_seconds for rate in self._rates.values()), default=0.0)
        self._next_sweep = clock() + self._longest

    def __len__(self) -> int:
        return len(self._windows)

    def retry_after(self, member_id: int, action: Action) -> float:
        """Seconds until `member_id` may do `action` again; 0 when allowed now."""
        rate = self._rates.get(action)
        window = self._windows.get((member_id, action))
        if rate is None or window is None:
            return 0.0
        now = self._clock()
        while window and window[0] <= now - rate.per_seconds:
            window.popleft()
        if len(window) < rate.count:
            return 0.0
        return window[0] + rate.per_seconds - now

    def take(self, member_id: int, action: Action) -> None:
        """Count one `action` by `member_id`, or raise TooFast (counting nothing) when over."""
        if action not in self._rates:
            return
        wait = self.retry_after(member_id, action)
        if wait > 0:
            raise TooFast(wait)
        now = self._clock()
        key = (member_id, action)
        window = self._windows.pop(key, None) or deque()
        window.append(now)
        self._windows[key] = window  # re-inserted: the dict runs least recently used first
        self._bound(now)

    def give_back(self, member_id: int, action: Action) -> None:
        """Uncount the latest `action` by `member_id`: it was refused before reaching Spotify."""
        window = self._windows.get((member_id, action))
        if window:
            window.pop()

    def allowed(self, member_id: int, action: Action) -> bool:
        """`take` for callers that answer a refusal with nothing (autocomplete)."""
        try:
            self.take(member_id, action)
        except TooFast:
            return False
        return True

    def _bound(self, now: float) -> None:
        if now >= self._next_sweep or len(self._windows) > self._max_keys:
            self._sweep(now)
        while len(self._windows) > self._max_keys:
            del self._windows[next(iter(self._windows))]

    def _sweep(self, now: float) -> None:
        """Forget every window whose newest use is older than its action's period."""
        self._next_sweep = now + self._longest
        expired = [
            key
            for key, window in self._windows.items()
            if not window or window[-1] <= now - self._rates[key[1]].per_seconds
        ]
        for key in expired:
            del self._windows[key]
