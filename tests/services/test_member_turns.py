"""The pieces the background sync and the recently-played poller share: how a member's turn is
judged, the backoff of a failing member, retried stores, passes until stopped. The workers'
own tests (test_sync.py, test_recent.py) cover them again through the sandbox."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy.exc import DBAPIError

from bot.domain import LinkBroken, LinkStatus, NotLinked
from bot.services.accounts import AccountService
from bot.services.member_turns import (
    IDLE_POLL_SECONDS,
    MIN_IDLE_SECONDS,
    RETRY_BACKOFF,
    STORE_ATTEMPTS,
    Backoff,
    LeaseLost,
    Quota,
    Turn,
    retry_collisions,
    run_passes,
    take_turn,
)
from bot.spotify.errors import (
    InvalidGrant,
    NotAllowListed,
    QuotaExceeded,
    RateLimited,
    SpotifyError,
)

USER = 42


class _Accounts:
    def __init__(self) -> None:
        self.marked: list[tuple[int, LinkStatus]] = []

    async def mark(self, discord_user_id: int, status: LinkStatus) -> None:
        self.marked.append((discord_user_id, status))


class _Turns:
    """`take_turn` for USER with recorded put-backs and marks."""

    def __init__(self, backoff: Backoff | None = None) -> None:
        self.accounts = _Accounts()
        self.backoff = backoff or Backoff(timedelta(hours=2))
        self.put_back: list[timedelta] = []

    async def _put_back(self, wait: timedelta) -> None:
        self.put_back.append(wait)

    async def take(self, failure: BaseException | None = None, turn: Turn = Turn.DONE) -> Turn:
        async def work() -> Turn:
            if failure is not None:
                raise failure
            return turn

        return await take_turn(
            USER,
            work,
            accounts=cast(AccountService, self.accounts),
            backoff=self.backoff,
            put_back=self._put_back,
            what="test",
        )


class _Conflict(Exception):
    sqlstate = "40P01"


def _deadlock() -> DBAPIError:
    return DBAPIError("UPDATE", {}, _Conflict())


def test_quota_counts_down_and_none_means_no_limit() -> None:
    two = Quota(2)
    assert [two.take() for _ in range(4)] == [True, True, False, False]
    unlimited = Quota(None)
    assert all(unlimited.take() for _ in range(100))


def test_backoff_doubles_to_its_cap_and_starts_over_once_forgotten() -> None:
    backoff = Backoff(RETRY_BACKOFF * 5)
    waits = [backoff.next_wait(USER) for _ in range(5)]
    assert waits == [RETRY_BACKOFF, RETRY_BACKOFF * 2, RETRY_BACKOFF * 4] + [RETRY_BACKOFF * 5] * 2
    assert backoff.next_wait(USER + 1) == RETRY_BACKOFF  # counted per member
    backoff.forget(USER)
    assert backoff.next_wait(USER) == RETRY_BACKOFF


def test_backoff_jitter_stays_within_its_spread() -> None:
    backoff = Backoff(timedelta(hours=1), jitter=0.1)
    waits = set()
    for user in range(200):
        wait = backoff.next_wait(user)
        assert RETRY_BACKOFF * 0.9 <= wait <= RETRY_BACKOFF * 1.1
        waits.add(wait)
    assert len(waits) > 1


async def test_a_turn_done_forgets_earlier_failures() -> None:
    turns = _Turns()
    assert await turns.take(SpotifyError("boom")) is Turn.DEFERRED
    assert await turns.take(SpotifyError("boom")) is Turn.DEFERRED
    assert turns.put_back == [RETRY_BACKOFF, RETRY_BACKOFF * 2]
    assert await turns.take() is Turn.DONE
    assert await turns.take(SpotifyError("boom")) is Turn.DEFERRED
    assert turns.put_back[-1] == RETRY_BACKOFF


async def test_the_work_may_judge_its_own_turn() -> None:
    turns = _Turns()
    assert await turns.take(SpotifyError("boom")) is Turn.DEFERRED
    assert await turns.take(turn=Turn.DEFERRED) is Turn.DEFERRED
    assert await turns.take(SpotifyError("boom")) is Turn.DEFERRED
    assert turns.put_back == [RETRY_BACKOFF, RETRY_BACKOFF * 2]  # the count was kept


@pytest.mark.parametrize("failure", [LeaseLost(), NotLinked("gone")])
async def test_a_lost_claim_or_link_skips_the_member(failure: Exception) -> None:
    turns = _Turns()
    assert await turns.take(failure) is Turn.SKIPPED
    assert turns.put_back == [] and turns.accounts.marked == []


@pytest.mark.parametrize("failure", [InvalidGrant("revoked"), LinkBroken("unreadable")])
async def test_a_revoked_or_broken_link_stops_the_member(failure: Exception) -> None:
    turns = _Turns()
    assert await turns.take(failure) is Turn.STOPPED
    assert turns.put_back == [] and turns.accounts.marked == []


async def test_a_member_not_allow_listed_is_marked_and_stopped() -> None:
    turns = _Turns()
    assert await turns.take(NotAllowListed()) is Turn.STOPPED
    assert turns.accounts.marked == [(USER, LinkStatus.NOT_ALLOWED)]
    assert turns.put_back == []


@pytest.mark.parametrize(
    ("failure", "wait"),
    [
        (RateLimited(30), timedelta(seconds=30)),
        (RateLimited(0), timedelta(seconds=MIN_IDLE_SECONDS)),
        (QuotaExceeded(retry_after=None), timedelta(seconds=MIN_IDLE_SECONDS)),
        (QuotaExceeded(retry_after=600), timedelta(seconds=600)),
    ],
)
async def test_a_rate_limit_puts_the_member_back_after_retry_after(
    failure: Exception, wait: timedelta
) -> None:
    turns = _Turns()
    assert await turns.take(failure) is Turn.DEFERRED
    assert turns.put_back == [wait]


async def test_an_unexpected_failure_is_logged_and_backed_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turns = _Turns()
    with caplog.at_level(logging.ERROR, logger="bot.services.member_turns"):
        assert await turns.take(KeyError("bug")) is Turn.DEFERRED
    assert turns.put_back == [RETRY_BACKOFF]
    assert "test of member 42 failed" in caplog.text


async def test_a_store_is_retried_after_a_deadlock_until_it_succeeds() -> None:
    calls = 0

    async def store() -> None:
        nonlocal calls
        calls += 1
        if calls < STORE_ATTEMPTS:
            raise _deadlock()

    await retry_collisions(store, what="storing")
    assert calls == STORE_ATTEMPTS


async def test_a_store_gives_up_after_its_attempts() -> None:
    calls = 0

    async def store() -> None:
        nonlocal calls
        calls += 1
        raise _deadlock()

    with pytest.raises(DBAPIError):
        await retry_collisions(store, what="storing")
    assert calls == STORE_ATTEMPTS


@pytest.mark.parametrize("failure", [LeaseLost(), ValueError("not a conflict")])
async def test_other_store_failures_are_raised_at_once(failure: Exception) -> None:
    calls = 0

    async def store() -> None:
        nonlocal calls
        calls += 1
        raise failure

    with pytest.raises(type(failure)):
        await retry_collisions(store, what="storing")
    assert calls == 1


async def test_passes_run_until_stopped_and_a_failed_pass_waits_a_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stopping = asyncio.Event()
    passes: list[str] = []
    delays: list[float] = []

    async def run_once() -> dict[Any, int]:
        passes.append("pass")
        if len(passes) == 2:
            raise RuntimeError("database went away")
        if len(passes) == 3:
            stopping.set()
        return {"done": 1}

    async def idle_seconds() -> float:
        return 0.0

    real_wait_for = asyncio.wait_for

    async def wait_for(awaitable: Any, delay: float) -> Any:
        delays.append(delay)
        return await real_wait_for(awaitable, 0)

    monkeypatch.setattr(asyncio, "wait_for", wait_for)
    await run_passes(run_once, idle_seconds, stopping, what="test")
    assert passes == ["pass"] * 3
    assert delays == [0.0, IDLE_POLL_SECONDS, 0.0]
