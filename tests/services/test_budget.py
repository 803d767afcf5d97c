import asyncio
import itertools
import time

import pytest

from bot.services.budget import RequestBudget


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_never_grants_more_than_the_limit_in_any_window() -> None:
    budget = RequestBudget(limit=4, window=0.4)
    granted: list[float] = []

    async def request() -> None:
        async with budget.spend():
            granted.append(time.monotonic())

    await asyncio.gather(*(request() for _ in range(10)))

    assert len(granted) == 10
    assert most_in_any_window(granted, 0.4) <= 4


async def test_spaces_grants_evenly_instead_of_bursting() -> None:
    budget = RequestBudget(limit=5, window=0.5)
    granted: list[float] = []

    async def request() -> None:
        async with budget.spend():
            granted.append(time.monotonic())

    await asyncio.gather(*(request() for _ in range(3)))

    gaps = [later - earlier for earlier, later in itertools.pairwise(granted)]
    assert all(gap >= 0.1 - 0.01 for gap in gaps)


async def test_a_request_counts_until_a_window_after_it_finished() -> None:
    budget = RequestBudget(limit=1, window=0.2)
    finished_at = 0.0

    async with budget.spend():
        await asyncio.sleep(0.2)
        finished_at = time.monotonic()
    async with budget.spend():
        second_granted = time.monotonic()

    assert second_granted - finished_at >= 0.2 - 0.01


async def test_waits_for_requests_in_flight_when_the_window_is_full() -> None:
    budget = RequestBudget(limit=1, window=0.1)
    release = asyncio.Event()
    order: list[str] = []

    async def slow() -> None:
        async with budget.spend():
            order.append("slow granted")
            await release.wait()
            order.append("slow done")

    async def next_one() -> None:
        async with budget.spend():
            order.append("next granted")

    first = asyncio.create_task(slow())
    await asyncio.sleep(0)
    second = asyncio.create_task(next_one())
    await asyncio.sleep(0.3)
    assert order == ["slow granted"]

    release.set()
    await asyncio.gather(first, second)
    assert order == ["slow granted", "slow done", "next granted"]


async def test_a_cancelled_wait_takes_no_place_in_the_budget() -> None:
    budget = RequestBudget(limit=1, window=0.1)

    async def request() -> None:
        async with budget.spend():
            pass

    async with budget.spend():
        waiter = asyncio.create_task(request())
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter

    await asyncio.wait_for(request(), timeout=2)


@pytest.mark.parametrize(("limit", "window"), [(0, 30.0), (10, 0.0)])
def test_refuses_an_empty_budget(limit: int, window: float) -> None:
    with pytest.raises(ValueError):
        RequestBudget(limit=limit, window=window)
