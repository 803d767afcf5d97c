"""What the background workers over claimed members share (bot/services/sync.py, the top
lists; bot/services/recent.py, recently-played): passes until stopped, a member's turn judged
by how it ended, the backoff of a member that keeps failing, and stores retried after a
collision with another writer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Any

from bot.db.engine import is_retryable_conflict
from bot.domain import LinkBroken, LinkStatus, NotLinked
from bot.services.accounts import AccountService
from bot.spotify.errors import (
    InvalidGrant,
    NotAllowListed,
    QuotaExceeded,
    RateLimited,
    SpotifyError,
)

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 60.0
MIN_IDLE_SECONDS = 1.0
STORE_ATTEMPTS = 3
RETRY_BACKOFF = timedelta(minutes=2)


class Turn(StrEnum):
    DONE = "done"  # the member's work was stored
    DEFERRED = "deferred"  # failed or rate limited: due again later
    STOPPED = "stopped"  # revoked, broken or not allow-listed: not retried until /link
    SKIPPED = "skipped"  # not linked, or taken over by another process


class LeaseLost(Exception):
    """Another process claimed the member, or the link changed, during its turn."""


class Quota:
    """How many more members a pass may claim (None: as many as are due)."""

    def __init__(self, remaining: int | None) -> None:
        self._remaining = remaining

    def take(self) -> bool:
        if self._remaining is None:
            return True
        if self._remaining <= 0:
            return False
        self._remaining -= 1
        return True


class Backoff:
    """Consecutive failures per member, and how long a failing member waits: RETRY_BACKOFF,
    doubling with each failure up to `cap`, then spread by `jitter` either way."""

    def __init__(self, cap: timedelta, jitter: float = 0.0) -> None:
        self._cap = cap
        self._jitter = jitter
        self._failures: dict[int, int] = {}

    def next_wait(self, user_id: int) -> timedelta:
        failures = self._failures.get(user_id, 0) + 1
        self._failures[user_id] = failures
        wait = min(self._cap, RETRY_BACKOFF * 2 ** (failures - 1))
        return wait * random.uniform(1 - self._jitter, 1 + self._jitter) if self._jitter else wait

    def forget(self, user_id: int) -> None:
        self._failures.pop(user_id, None)


async def take_turn(
    user_id: int,
    work: Callable[[], Awaitable[Turn]],
    *,
    accounts: AccountService,
    backoff: Backoff,
    put_back: Callable[[timedelta], Awaitable[None]],
    what: str,
) -> Turn:
    """Run a claimed member's `work` and judge how it ended: a Spotify failure puts the
    member back (after Retry-After, or with backoff), a revoked or refused link stops it, a
    lost claim or link skips it. `what` names the work in the log."""
    try:
        turn = await work()
    except (LeaseLost, NotLinked):
        return Turn.SKIPPED
    except (InvalidGrant, LinkBroken):
        backoff.forget(user_id)
        return Turn.STOPPED
    except NotAllowListed:
        backoff.forget(user_id)
        await accounts.mark(user_id, LinkStatus.NOT_ALLOWED)
        return Turn.STOPPED
    except (RateLimited, QuotaExceeded) as exc:
        wait = timedelta(seconds=max(exc.retry_after or 0.0, MIN_IDLE_SECONDS))
        log.info("%s of member %s rate limited; back in %s", what, user_id, wait)
        await put_back(wait)
        return Turn.DEFERRED
    except SpotifyError as exc:
        log.warning("%s of member %s failed: %s", what, user_id, type(exc).__name__)
        await put_back(backoff.next_wait(user_id))
        return Turn.DEFERRED
    except Exception:
        log.exception("%s of member %s failed", what, user_id)
        await put_back(backoff.next_wait(user_id))
        return Turn.DEFERRED
    if turn is Turn.DONE:
        backoff.forget(user_id)
    return turn


async def retry_collisions(store: Callable[[], Awaitable[None]], *, what: str) -> None:
    """`store()`, run again after a deadlock or serialization failure (STORE_ATTEMPTS in
    all); any other failure is raised at once."""
    for attempt in range(1, STORE_ATTEMPTS + 1):
        try:
            await store()
            return
        except Exception as exc:
            if attempt == STORE_ATTEMPTS or not is_retryable_conflict(exc):
                raise
            log.info("%s collided with another writer; retrying", what)


async def run_passes(
    run_once: Callable[[], Awaitable[Mapping[Any, int]]],
    idle_seconds: Callable[[], Awaitable[float]],
    stopping: asyncio.Event,
    *,
    what: str,
) -> None:
    """Pass after pass until `stopping` is set or the task is cancelled, sleeping between
    passes for `idle_seconds()` (a minute after a pass that failed)."""
    while not stopping.is_set():
        try:
            outcomes = await run_once()
            if outcomes:
                log.info("%s pass: %s", what, ", ".join(f"{k} {v}" for k, v in outcomes.items()))
            delay = await idle_seconds()
        except Exception:
            log.exception("%s pass failed", what)
            delay = IDLE_POLL_SECONDS
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)
