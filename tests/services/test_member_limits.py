"""Per-member limits: each (member, action) has its own window, and memory stays bounded."""

from __future__ import annotations

import pytest

from bot.domain import TooFast
from bot.services.member_limits import DEFAULT_RATES, Action, MemberLimiter, Rate

RATES = {Action.SHARE_BUTTON: Rate(3, 30), Action.SERVER_PLAYLIST: Rate(1, 600)}


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def limiter(ticks: Ticks) -> MemberLimiter:
    return MemberLimiter(RATES, clock=ticks)


def test_over_the_rate_says_when_to_retry(limiter: MemberLimiter, ticks: Ticks) -> None:
    for second in range(3):
        ticks.now = 1000.0 + second
        limiter.take(1, Action.SHARE_BUTTON)
    ticks.now = 1010.0
    with pytest.raises(TooFast) as refused:
        limiter.take(1, Action.SHARE_BUTTON)
    assert refused.value.retry_after == pytest.approx(20.0)


def test_the_window_slides(limiter: MemberLimiter, ticks: Ticks) -> None:
    limiter.take(1, Action.SERVER_PLAYLIST)
    ticks.now += 599
    assert limiter.retry_after(1, Action.SERVER_PLAYLIST) == pytest.approx(1.0)
    ticks.now += 1
    limiter.take(1, Action.SERVER_PLAYLIST)
    assert limiter.retry_after(1, Action.SERVER_PLAYLIST) == pytest.approx(600.0)


def test_a_refused_attempt_does_not_extend_the_wait(limiter: MemberLimiter, ticks: Ticks) -> None:
    limiter.take(1, Action.SERVER_PLAYLIST)
    for _ in range(5):
        ticks.now += 100
        with pytest.raises(TooFast):
            limiter.take(1, Action.SERVER_PLAYLIST)
    ticks.now += 100
    limiter.take(1, Action.SERVER_PLAYLIST)


def test_one_members_burst_does_not_limit_another(limiter: MemberLimiter) -> None:
    for _ in range(3):
        limiter.take(1, Action.SHARE_BUTTON)
    assert not limiter.allowed(1, Action.SHARE_BUTTON)
    assert limiter.allowed(2, Action.SHARE_BUTTON)
    assert limiter.allowed(1, Action.SERVER_PLAYLIST)


def test_given_back_attempts_do_not_count(limiter: MemberLimiter) -> None:
    limiter.take(1, Action.SERVER_PLAYLIST)
    limiter.give_back(1, Action.SERVER_PLAYLIST)
    limiter.take(1, Action.SERVER_PLAYLIST)
    assert not limiter.allowed(1, Action.SERVER_PLAYLIST)


def test_actions_without_a_rate_are_not_limited(ticks: Ticks) -> None:
    limiter = MemberLimiter({}, clock=ticks)
    for _ in range(100):
        limiter.take(1, Action.CHART)
    assert len(limiter) == 0


def test_expired_windows_are_forgotten(limiter: MemberLimiter, ticks: Ticks) -> None:
    for member in range(500):
        limiter.take(member, Action.SHARE_BUTTON)
    assert len(limiter) == 500
    ticks.now += 601
    limiter.take(9999, Action.SHARE_BUTTON)
    assert len(limiter) == 1


def test_live_windows_are_capped_least_recently_used_first(ticks: Ticks) -> None:
    limiter = MemberLimiter(RATES, max_keys=100, clock=ticks)
    for member in range(250):
        limiter.take(member, Action.SERVER_PLAYLIST)
    assert len(limiter) == 100
    assert limiter.allowed(0, Action.SERVER_PLAYLIST)
    assert not limiter.allowed(249, Action.SERVER_PLAYLIST)


def test_every_action_has_a_default_rate() -> None:
    assert set(DEFAULT_RATES) == set(Action)
    assert DEFAULT_RATES[Action.SERVER_PLAYLIST].per_seconds >= 600
