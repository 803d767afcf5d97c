"""The Spotify budget and cooldown shared by every process: two processes are two engines on
one database, each with its own `SharedLimits`."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.db.engine import create_engine, make_session_factory
from bot.db.migrate import upgrade_to_head
from bot.services.limits import SharedLimits, grant_spacing
from bot.services.spending import BackgroundSpender
from bot.spotify.client import SpotifyClient
from bot.spotify.errors import RateLimited

WINDOW = 30.0
START = 1_800_000_000.0


class FrozenTime:
    """A clock that stands still; sleeping only lets other tasks run. Grants then come out
    exactly as scheduled, whatever the machine's speed."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


class Deployment:
    """Processes on one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engines = [create_engine(url), create_engine(url)]

    def process(
        self, index: int, time: FrozenTime | None = None, **options: object
    ) -> SharedLimits:
        settings: dict[str, object] = {"sync_budget": 10, "interactive_share": 5}
        settings.update(options)
        if time is not None:
            settings.update(clock=time, sleep=time.sleep)
        return SharedLimits(make_session_factory(self.engines[index]), **settings)  # type: ignore[arg-type]

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()


@pytest.fixture
async def deployment(db_url: str) -> AsyncIterator[Deployment]:
    await upgrade_to_head(db_url)
    processes = Deployment(db_url)
    yield processes
    await processes.close()


def most_in_any_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def grants(limits: SharedLimits, count: int) -> list[float]:
    taken: list[float] = []

    async def worker() -> None:
        while len(taken) < count:
            async with limits.spend() as at:
                taken.append(at)

    await asyncio.gather(*(worker() for _ in range(3)))
    return taken


async def test_two_processes_share_one_sync_budget(deployment: Deployment) -> None:
    time = FrozenTime()
    one, two = deployment.process(0, time), deployment.process(1, time)

    first, second = await asyncio.gather(grants(one, 23), grants(two, 17))

    every = sorted(first + second)
    assert len(set(every)) == len(every)
    spacing = WINDOW / 10
    assert all(later - earlier >= spacing - 1e-6 for earlier, later in itertools.pairwise(every))
    assert most_in_any_window(every, WINDOW) <= 10
    assert every[0] == START


async def test_commands_beyond_their_share_push_the_sync_back(deployment: Deployment) -> None:
    time = FrozenTime()
    commands = deployment.process(0, time, interactive_share=2)
    sync = deployment.process(1, time)

    for _ in range(5):  # one claim of 5: 3 beyond the share of 2
        await commands.count_interactive()
    async with sync.spend() as first:
        pass

    assert first == START + 3 * grant_spacing(WINDOW, 10)


@pytest.mark.parametrize("budget", [2, 10, 100, 300])
def test_grants_used_up_to_a_spacing_late_never_exceed_the_budget_in_a_window(budget: int) -> None:
    spacing = grant_spacing(WINDOW, budget)
    grants = [i * spacing for i in range(budget * 5)]
    # the worst case: every other grant goes as late as it may (later ones are dropped)
    sent = sorted(t + (spacing * 0.999 if i % 2 else 0.0) for i, t in enumerate(grants))
    most = max(bisect.bisect_left(sent, start + WINDOW) - i for i, start in enumerate(sent))
    assert most <= budget
    if budget >= 10:
        assert WINDOW / spacing >= 0.9 * budget  # the headroom stays small


async def test_commands_within_their_share_leave_the_sync_alone(deployment: Deployment) -> None:
    time = FrozenTime()
    commands, sync = deployment.process(0, time), deployment.process(1, time)

    for _ in range(5):
        await commands.count_interactive()
    time.now += WINDOW  # a new window: the count starts again
    for _ in range(5):
        await commands.count_interactive()
    async with sync.spend() as first:
        pass

    assert first == time.now


async def test_a_429_anywhere_is_every_processs_cooldown(deployment: Deployment) -> None:
    time = FrozenTime()
    one, two = deployment.process(0, time), deployment.process(1, time)
    held: list[float] = []
    await two.start(hold=held.append)
    try:
        one.rate_limited(10)
        await one.close()  # the write has gone
        await two.poll()
        assert two.cooldown_remaining() == 10
        assert held[-1] == 10

        two.rate_limited(3)  # a shorter one never shortens it
        await two.close()
        await one.poll()
        assert one.cooldown_remaining() == 10
    finally:
        await two.close()


async def test_each_process_reads_the_shared_cooldown_in_the_background(
    deployment: Deployment,
) -> None:
    seen = asyncio.Event()
    one = deployment.process(0)
    two = deployment.process(1, poll_seconds=0.05)
    await two.start(hold=lambda seconds: seen.set())
    try:
        one.rate_limited(30)
        await one.close()
        await asyncio.wait_for(seen.wait(), 10)
        assert two.cooldown_remaining() > 20
    finally:
        await two.close()


async def test_a_background_source_shares_its_own_budget_across_processes(
    deployment: Deployment,
) -> None:
    """Recently-played polling (say) spends 4 per window across both processes, on a schedule
    of its own: the sync's budget is left whole."""
    time = FrozenTime()
    one, two = deployment.process(0, time), deployment.process(1, time)
    recent_one, recent_two = one.share("recent", 4), two.share("recent", 4)

    first, second = await asyncio.gather(grants(recent_one, 7), grants(recent_two, 5))
    async with one.spend() as sync_first:
        pass

    every = sorted(first + second)
    assert len(set(every)) == len(every)
    assert all(b - a >= WINDOW / 4 - 1e-6 for a, b in itertools.pairwise(every))
    assert most_in_any_window(every, WINDOW) <= 4
    assert sync_first == START


async def test_a_cooldown_seen_by_the_limits_holds_the_background_sources(
    deployment: Deployment,
) -> None:
    """The sources spend through a client the limits hold: a 429 given to another process
    stops them too (the spender waits out the client's cooldown before every request)."""

    async def never() -> None:
        raise AssertionError("a request during the cooldown")

    async with aiohttp.ClientSession() as http:
        client = SpotifyClient(http, api_url="http://127.0.0.1:9")
        one, two = deployment.process(0), deployment.process(1)
        await two.start(hold=client.hold_cooldown)
        try:
            spender = BackgroundSpender(client, two.share("recent", 100))
            one.rate_limited(30)
            await one.close()
            await two.poll()
            with pytest.raises(RateLimited):
                await spender.call(never, max_pause=1)
            assert spender.cooldown_remaining() > 20
        finally:
            await two.close()


async def test_grants_that_come_due_in_a_cooldown_are_given_up_not_sent_together(
    deployment: Deployment,
) -> None:
    """Tasks holding grants when a cooldown starts wait it out; each then takes a new grant,
    so they go at their grants' times, not all at the instant the cooldown ends (the old
    code sent all three within a millisecond)."""
    sent: list[float] = []

    async def fetch() -> None:
        sent.append(time.monotonic())

    async with aiohttp.ClientSession() as http:
        client = SpotifyClient(http, api_url="http://127.0.0.1:9")
        limits = deployment.process(0, sync_budget=10, window=1.0)
        spender = BackgroundSpender(client, limits)
        tasks = [asyncio.create_task(spender.call(fetch)) for _ in range(3)]
        await asyncio.sleep(0)
        client.hold_cooldown(0.4)
        await asyncio.gather(*tasks)
    spacing = grant_spacing(1.0, 10)
    assert len(sent) == 3
    # three grants span two spacings; the first may have gone up to one spacing late
    assert sent[-1] - sent[0] >= spacing * 0.9
