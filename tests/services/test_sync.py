"""The background sync against the Spotify sandbox and a real database."""

from __future__ import annotations

import asyncio
import bisect
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.models import SpotifyLink
from bot.domain import ItemKind, LinkStatus, TimeRange
from bot.services.member_turns import RETRY_BACKOFF
from bot.services.sync import DEFAULT_LEASE, JITTER, LISTS, SyncOutcome, SyncService
from bot.store.snapshots import read_snapshot
from sandbox.spotify import RecordedRequest, SpotifySandbox
from tests.helpers.accounts import Accounts, build_accounts

INTERVAL = timedelta(hours=12)
TOP = "/me/top"


@dataclass
class Stack(Accounts):
    def service(
        self,
        *,
        budget: int = 1000,
        window: float = 30.0,
        concurrency: int = 2,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> SyncService:
        return SyncService(
            sessions or self.sessions,
            self.accounts,
            self.client,
            interval=INTERVAL,
            budget=budget,
            clock=self.clock,
            window=window,
            concurrency=concurrency,
        )

    async def stored(self, member_id: int) -> dict[tuple[ItemKind, TimeRange], list[str]]:
        """The member's stored lists by (kind, range), as Spotify ids; absent lists left out."""
        lists = {}
        async with self.sessions() as session:
            for kind, time_range in LISTS:
                stored = await read_snapshot(session, member_id, kind, time_range)
                if stored is not None:
                    lists[kind, time_range] = [item.id for item in stored.items]
        return lists

    def spotify_lists(self, user_id: str) -> dict[tuple[ItemKind, TimeRange], list[str]]:
        user = self.sandbox.users[user_id]
        return {
            (kind, period): list(
                (user.top_artists if kind is ItemKind.ARTIST else user.top_tracks)[period.api_name]
            )
            for kind, period in LISTS
        }


@pytest.fixture
def stack(
    spotify_sandbox: SpotifySandbox,
    db_sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
) -> Stack:
    return Stack(**vars(build_accounts(spotify_sandbox, db_sessions, http)))


def most_in_any_window(records: list[RecordedRequest], window: float) -> int:
    times = sorted(record.at for record in records)
    return max(bisect.bisect_left(times, start + window) - i for i, start in enumerate(times))


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(500):
        if await check():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the condition did not come true within 5 s")


async def requests_seen(sandbox: SpotifySandbox, count: int) -> None:
    async def seen() -> bool:
        return len(sandbox.requests_to(TOP)) >= count

    await eventually(seen)


def near(delay: timedelta, expected: timedelta) -> bool:
    return expected * (1 - JITTER) <= delay <= expected * (1 + JITTER)


async def test_a_pass_syncs_due_members_and_stores_six_lists_each(stack: Stack) -> None:
    await stack.link(1, "user0")
    await stack.link(2, "user1", due=stack.clock.now - timedelta(hours=1))

    outcomes = await stack.service().run_once()

    assert outcomes == Counter({SyncOutcome.SYNCED: 2})
    for member_id, user_id in ((1, "user0"), (2, "user1")):
        assert await stack.stored(member_id) == stack.spotify_lists(user_id)
        link = await stack.link_row(member_id)
        assert link.synced_at == stack.clock.now
        assert link.sync_due_at is not None
        assert near(link.sync_due_at - stack.clock.now, INTERVAL)
    requests = stack.sandbox.requests_to(TOP)
    assert len(requests) == 12
    assert {request.query["limit"] for request in requests} == {"50"}


async def test_a_pass_can_be_limited_to_a_number_of_members(stack: Stack) -> None:
    for number in range(3):
        await stack.link(number, f"user{number}", due=stack.clock.now - timedelta(hours=number))

    outcomes = await stack.service(concurrency=3).run_once(max_members=2)

    assert outcomes == Counter({SyncOutcome.SYNCED: 2})
    assert [(await stack.link_row(n)).synced_at is None for n in range(3)] == [True, False, False]


async def test_members_not_due_or_not_active_are_left_alone(stack: Stack) -> None:
    later = stack.clock.now + timedelta(minutes=1)
    await stack.link(1, "user0", due=later)
    await stack.link(2, "user1", status=LinkStatus.REVOKED)
    await stack.link(3, "user2", status=LinkStatus.NOT_ALLOWED)

    outcomes = await stack.service().run_once()

    assert outcomes == Counter()
    assert stack.sandbox.requests_to(TOP) == []
    assert (await stack.link_row(1)).sync_due_at == later
    for member_id in (1, 2, 3):
        assert await stack.stored(member_id) == {}


async def test_a_revoked_grant_marks_the_link_and_is_not_retried(stack: Stack) -> None:
    await stack.link(1, "user0")
    stack.sandbox.revoke("user0")
    sync = stack.service()

    assert await sync.run_once() == Counter({SyncOutcome.STOPPED: 1})
    assert (await stack.link_row(1)).status is LinkStatus.REVOKED

    stack.clock.advance(INTERVAL * 2)
    stack.sandbox.clear_requests()
    assert await sync.run_once() == Counter()
    assert stack.sandbox.requests == []


async def test_a_member_off_the_allow_list_is_marked_and_not_retried(stack: Stack) -> None:
    stack.sandbox.add_user("outsider", allow_listed=False)
    await stack.link(1, "outsider")
    sync = stack.service()

    assert await sync.run_once() == Counter({SyncOutcome.STOPPED: 1})
    assert (await stack.link_row(1)).status is LinkStatus.NOT_ALLOWED

    stack.clock.advance(INTERVAL * 2)
    assert await sync.run_once() == Counter()
    assert len(stack.sandbox.requests_to(TOP)) == 1


async def test_server_errors_leave_the_previous_lists_whole_and_retry_later(
    stack: Stack,
) -> None:
    await stack.link(1, "user0")
    sync = stack.service()
    await sync.run_once()
    first_sync = stack.clock.now
    before = await stack.stored(1)
    user = stack.sandbox.users["user0"]
    for ranking in (*user.top_artists.values(), *user.top_tracks.values()):
        ranking.reverse()
    stack.clock.advance(INTERVAL * 2)
    stack.sandbox.faults.server_error(count=50, status=503, path="/me/top/tracks")

    assert await sync.run_once() == Counter({SyncOutcome.DEFERRED: 1})

    assert await stack.stored(1) == before
    link = await stack.link_row(1)
    assert link.synced_at == first_sync
    assert link.sync_due_at is not None
    assert near(link.sync_due_at - stack.clock.now, RETRY_BACKOFF)

    stack.sandbox.faults.clear()
    stack.clock.advance(RETRY_BACKOFF * 2)
    assert await sync.run_once() == Counter({SyncOutcome.SYNCED: 1})
    assert await stack.stored(1) == stack.spotify_lists("user0") != before


async def test_no_request_is_sent_while_a_rate_limit_cools_down(stack: Stack) -> None:
    for number in range(3):
        await stack.link(number, f"user{number}")
    stack.sandbox.faults.rate_limit(1.0, count=1, path=TOP)

    outcomes = await stack.service(concurrency=3).run_once()

    assert outcomes == Counter({SyncOutcome.SYNCED: 3})
    requests = stack.sandbox.requests_to(TOP)
    [limited] = [request for request in requests if request.status == 429]
    cooldown_ends = limited.at + 1.0
    assert [r for r in requests if limited.at < r.at < cooldown_ends] == []
    assert sum(1 for r in requests if r.at >= cooldown_ends) >= 1


async def test_a_longer_rate_limit_than_the_client_waits_puts_the_member_back(
    stack: Stack,
) -> None:
    stack.client.background_max_wait = 0.5
    await stack.link(1, "user0")
    stack.sandbox.faults.rate_limit(1.0, count=1, path=TOP)
    sync = stack.service()

    assert await sync.run_once() == Counter({SyncOutcome.DEFERRED: 1})
    assert (await stack.link_row(1)).sync_due_at == stack.clock.now + timedelta(seconds=1)
    assert await stack.stored(1) == {}

    stack.clock.advance(timedelta(seconds=2))
    assert await sync.run_once() == Counter({SyncOutcome.SYNCED: 1})


async def test_the_budget_is_never_exceeded_in_any_window(stack: Stack) -> None:
    for number in range(3):
        await stack.link(number, f"user{number}")

    outcomes = await stack.service(budget=4, window=0.3, concurrency=3).run_once()

    assert outcomes == Counter({SyncOutcome.SYNCED: 3})
    requests = stack.sandbox.requests_to(TOP)
    assert len(requests) == 18
    assert most_in_any_window(requests, 0.3) <= 4


async def test_sync_member_syncs_a_new_link_at_once(stack: Stack) -> None:
    await stack.link(1, "user0", due=stack.clock.now)
    sync = stack.service()

    assert await sync.sync_member(1) is SyncOutcome.SYNCED
    assert await stack.stored(1) == stack.spotify_lists("user0")

    assert await sync.sync_member(1) is SyncOutcome.SKIPPED
    assert await sync.sync_member(404) is SyncOutcome.SKIPPED
    assert len(stack.sandbox.requests_to(TOP)) == 6


async def test_members_linking_together_are_synced_a_few_at_a_time(stack: Stack) -> None:
    """Many links at once: `concurrency` on-demand syncs fetch at a time, the rest wait their
    turn instead of all holding half-fetched lists together."""
    for number in range(6):
        await stack.link(number, f"user{number}", due=stack.clock.now)
    sync = stack.service(concurrency=2)

    outcomes = await asyncio.gather(*(sync.sync_member(number) for number in range(6)))

    assert set(outcomes) == {SyncOutcome.SYNCED}
    requests = sorted(stack.sandbox.requests_to(TOP), key=lambda record: record.at)
    first = {r.user_id: n for n, r in reversed(list(enumerate(requests)))}
    last = {r.user_id: n for n, r in enumerate(requests)}
    fetching = [sum(1 for u in first if first[u] <= n <= last[u]) for n in range(len(requests))]
    assert len(requests) == 36
    assert max(fetching) == 2


async def test_sync_member_waits_for_a_sync_already_under_way(stack: Stack) -> None:
    await stack.link(1, "user0")
    stack.sandbox.faults.latency(0.05, path=TOP)
    sync = stack.service()
    background = asyncio.create_task(sync.run_once())
    await requests_seen(stack.sandbox, 1)

    assert await sync.sync_member(1) is SyncOutcome.SYNCED
    assert await background == Counter({SyncOutcome.SYNCED: 1})
    assert len(stack.sandbox.requests_to(TOP)) == 6


async def test_two_processes_never_sync_the_same_member(stack: Stack, db_url: str) -> None:
    for number in range(8):
        await stack.link(number, f"user{number}")
    other_engine = create_engine(db_url)
    try:
        first = stack.service(concurrency=3)
        second = stack.service(concurrency=3, sessions=make_session_factory(other_engine))

        outcomes = await asyncio.gather(first.run_once(), second.run_once())
    finally:
        await other_engine.dispose()

    assert sum(outcomes, Counter()) == Counter({SyncOutcome.SYNCED: 8})
    per_user = Counter(request.user_id for request in stack.sandbox.requests_to(TOP))
    assert per_user == {f"user{number}": 6 for number in range(8)}


async def test_a_sync_whose_claim_was_taken_over_stores_nothing(stack: Stack) -> None:
    await stack.link(1, "user0", due=stack.clock.now)
    stack.sandbox.faults.latency(0.05, path=TOP)
    sync = stack.service()
    syncing = asyncio.create_task(sync.sync_member(1))
    await requests_seen(stack.sandbox, 1)
    taken_over = stack.clock.now + timedelta(minutes=30)
    async with session_scope(stack.sessions) as session:
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == 1)
            .values(sync_due_at=taken_over)
        )

    assert await syncing is SyncOutcome.SKIPPED
    assert await stack.stored(1) == {}
    assert (await stack.link_row(1)).sync_due_at == taken_over


async def test_run_forever_syncs_and_stops_when_cancelled(stack: Stack) -> None:
    await stack.link(1, "user0")
    running = asyncio.create_task(stack.service().run_forever())

    async def synced() -> bool:
        return (await stack.link_row(1)).synced_at is not None

    await eventually(synced)

    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await stack.stored(1) == stack.spotify_lists("user0")


async def test_run_forever_cancelled_mid_sync_keeps_the_member_claimed(stack: Stack) -> None:
    await stack.link(1, "user0")
    stack.sandbox.faults.latency(0.5, path=TOP)
    running = asyncio.create_task(stack.service().run_forever())
    await requests_seen(stack.sandbox, 1)

    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await stack.stored(1) == {}
    assert (await stack.link_row(1)).sync_due_at == stack.clock.now + DEFAULT_LEASE
