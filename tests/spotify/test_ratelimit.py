from __future__ import annotations

import asyncio
import time

import pytest

from bot.spotify.errors import RateLimited
from bot.spotify.ratelimit import Cooldown


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_hold_only_ever_extends_the_pause() -> None:
    clock = Clock()
    cooldown = Cooldown(clock)

    cooldown.hold(10)
    cooldown.hold(2)
    clock.now += 4

    assert cooldown.remaining() == 6
    clock.now += 7
    assert cooldown.remaining() == 0


async def test_a_pause_past_the_cap_raises_at_once() -> None:
    clock = Clock()
    cooldown = Cooldown(clock)
    cooldown.hold(3600)

    with pytest.raises(RateLimited) as caught:
        await asyncio.wait_for(cooldown.wait(max_wait=5), timeout=1)

    assert caught.value.retry_after == 3600


async def test_a_short_pause_is_slept_out() -> None:
    cooldown = Cooldown()
    cooldown.hold(0.05)
    started = time.monotonic()

    await cooldown.wait(max_wait=5)

    assert time.monotonic() - started >= 0.05
    assert cooldown.remaining() == 0
