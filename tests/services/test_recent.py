"""Recently-played polling against the Spotify sandbox and a real database."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.models import SpotifyLink
from bot.domain import PlayIn, PlaySource
from bot.services.recent import (
    MAX_INTERVAL,
    MIN_INTERVAL,
    TARGET_PLAYS,
    MayRecord,
    PollOutcome,
    RecentlyPlayedPoller,
    next_interval,
)
from bot.services.spending import BackgroundSpender
from bot.spotify.scopes import LISTENING_SCOPES, SCOPES
from bot.store.plays import PlayRow, recent_plays, record_plays
from bot.store.recent_polls import needs_relink, take_relink_notice
from sandbox.spotify import SpotifySandbox
from tests.helpers.accounts import Accounts, build_accounts

RECENT = "/me/player/recently-played"
OLD_SCOPES = tuple(scope for scope in SCOPES if scope not in LISTENING_SCOPES)


@dataclass
class Stack(Accounts):
    def poller(
        self,
        *,
        budget: int = 1000,
        window: float = 30.0,
        concurrency: int = 2,
        may_record: MayRecord | None = None,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> RecentlyPlayedPoller:
        extra = {} if may_record is None else {"may_record": may_record}
        return RecentlyPlayedPoller(
            sessions or self.sessions,
            self.accounts,
            BackgroundSpender(self.client, budget, window),
            clock=self.clock,
            concurrency=concurrency,
            **extra,  # type: ignore[arg-type]
        )

    async def plays(self, member_id: int) -> list[PlayRow]:
        async with self.sessions() as session:
            return await recent_plays(session, member_id, limit=500)

    def play(self, user_id: str, track_id: str, played_at: datetime) -> None:
        self.sandbox.play(user_id, track_id, played_at)

    def duration(self, track_id: str) -> timedelta:
        return timedelta(milliseconds=self.sandbox.catalog.tracks[track_id].duration_ms)


@pytest.fixture
def stack(
    spotify_sandbox: SpotifySandbox,
    db_sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
) -> Stack:
    return Stack(**vars(build_accounts(spotify_sandbox, db_sessions, http)))


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def base_time() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


async def test_a_poll_stores_plays_started_one_track_length_before_played_at(
    stack: Stack,
) -> None:
    await stack.link(1, "user0")
    tracks = stack.sandbox.track_ids()[:3]
    start = base_time()
    played = [start + timedelta(minutes=5 * n) for n in range(3)]
    for track, at in zip(tracks, played, strict=True):
        stack.play("user0", track, at)

    assert await stack.poller().run_once() == Counter({PollOutcome.POLLED: 1})

    stored = sorted(await stack.plays(1), key=lambda row: row.started_at)
    assert [(row.track_id, row.started_at, row.source) for row in stored] == [
        (track, at - stack.duration(track), PlaySource.RECENTLY_PLAYED)
        for track, at in zip(tracks, played, strict=True)
    ]
    assert [row.ms_played for row in stored] == [
        stack.duration(track) // timedelta(milliseconds=1) for track in tracks
    ]
    link = await stack.link_row(1)
    assert link.recent_after_ms == ms(played[-1])
    assert link.recent_polled_at == stack.clock.now


async def test_the_cursor_advances_and_the_next_poll_reads_only_newer_plays(
    stack: Stack,
) -> None:
    await stack.link(1, "user0")
    first, second = stack.sandbox.track_ids()[:2]
    start = base_time()
    stack.play("user0", first, start)
    poller = stack.poller()
    await poller.run_once()

    stack.clock.advance(MAX_INTERVAL)
    stack.play("user0", second, start + timedelta(minutes=10))
    assert await poller.run_once() == Counter({PollOutcome.POLLED: 1})

    asked = [request.query.get("after") for request in stack.sandbox.requests_to(RECENT)]
    assert asked == [None, str(ms(start))]
    assert [row.track_id for row in await stack.plays(1)] == [second, first]
    assert (await stack.link_row(1)).recent_after_ms == ms(start + timedelta(minutes=10))

    stack.clock.advance(MAX_INTERVAL)
    assert await poller.run_once() == Counter({PollOutcome.POLLED: 1})
    assert len(await stack.plays(1)) == 2
    assert (await stack.link_row(1)).recent_after_ms == ms(start + timedelta(minutes=10))


async def test_no_play_is_lost_when_a_member_plays_50_between_polls(stack: Stack) -> None:
    await stack.link(1, "user0")
    tracks = stack.sandbox.track_ids()
    start = base_time()
    stack.play("user0", tracks[0], start)
    poller = stack.poller()
    await poller.run_once()

    later = [start + timedelta(minutes=4 * (n + 1)) for n in range(50)]
    for n, at in enumerate(later):
        stack.play("user0", tracks[(n + 1) % len(tracks)], at)
    stack.clock.advance(MAX_INTERVAL)
    await poller.run_once()

    stored = await stack.plays(1)
    assert len(stored) == 51
    assert {row.started_at + stack.duration(row.track_id or "") for row in stored} == {
        start,
        *later,
    }


async def test_presence_and_recently_played_of_one_listening_give_one_play(
    stack: Stack,
) -> None:
    await stack.link(1, "user0")
    track_id = stack.sandbox.track_ids()[0]
    seen = stack.sandbox.presence_track(track_id)
    started = base_time()
    async with session_scope(stack.sessions, shared_writes=True) as session:
        await record_plays(
            session,
            [
                PlayIn(
                    discord_user_id=1,
                    started_at=started,
                    ms_played=seen.duration_ms - 4_000,
                    source=PlaySource.PRESENCE,
                    track_name=seen.title,
                    artist_names=seen.artists,
                    album_name=seen.album,
                    track_id=seen.id,
                )
            ],
        )
    # Spotify's played_at comes a little after the track's nominal end.
    stack.play("user0", track_id, started + stack.duration(track_id) + timedelta(seconds=3))

    await stack.poller().run_once()

    [play] = await stack.plays(1)
    assert play.source is PlaySource.PRESENCE
    assert play.track_id == track_id


async def test_no_request_is_sent_while_a_rate_limit_cools_down(stack: Stack) -> None:
    for number in range(3):
        await stack.link(number, f"user{number}")
        stack.play(f"user{number}", stack.sandbox.track_ids()[0], base_time())
    stack.sandbox.faults.rate_limit(1.0, count=1, path=RECENT)

    outcomes = await stack.poller(concurrency=3).run_once()

    assert outcomes == Counter({PollOutcome.POLLED: 3})
    requests = stack.sandbox.requests_to(RECENT)
    [limited] = [request for request in requests if request.status == 429]
    cooldown_ends = limited.at + 1.0
    assert [r for r in requests if limited.at < r.at < cooldown_ends] == []
    assert sum(1 for r in requests if r.at >= cooldown_ends) >= 1
    for number in range(3):
        assert len(await stack.plays(number)) == 1


async def test_a_longer_rate_limit_than_the_client_waits_puts_the_member_back(
    stack: Stack,
) -> None:
    stack.client.background_max_wait = 0.5
    await stack.link(1, "user0")
    stack.sandbox.faults.rate_limit(1.0, count=1, path=RECENT)

    assert await stack.poller().run_once() == Counter({PollOutcome.DEFERRED: 1})

    link = await stack.link_row(1)
    assert link.recent_due_at == stack.clock.now + timedelta(seconds=1)
    assert link.recent_polled_at is None


async def test_members_linked_before_the_scope_are_skipped_and_asked_to_link_again(
    stack: Stack,
) -> None:
    await stack.link(1, "user0", scopes=OLD_SCOPES)
    await stack.link(2, "user1")
    stack.play("user0", stack.sandbox.track_ids()[0], base_time())

    assert await stack.poller().run_once() == Counter({PollOutcome.POLLED: 1})

    assert {r.user_id for r in stack.sandbox.requests_to(RECENT)} == {"user1"}
    assert await stack.plays(1) == []
    async with session_scope(stack.sessions) as session:
        assert await needs_relink(session, 1)
        assert not await needs_relink(session, 2)
        assert await take_relink_notice(session, 1, stack.clock.now)
        assert not await take_relink_notice(session, 2, stack.clock.now)
    async with session_scope(stack.sessions) as session:
        assert not await take_relink_notice(session, 1, stack.clock.now)


async def test_a_member_who_switched_recording_off_has_nothing_stored_but_the_cursor_moves(
    stack: Stack,
) -> None:
    await stack.link(1, "user0")
    played = base_time()
    stack.play("user0", stack.sandbox.track_ids()[0], played)

    async def never(discord_user_id: int) -> bool:
        return False

    assert await stack.poller(may_record=never).run_once() == Counter({PollOutcome.POLLED: 1})
    assert await stack.plays(1) == []
    assert (await stack.link_row(1)).recent_after_ms == ms(played)


async def test_the_next_poll_is_due_from_the_members_rate(stack: Stack) -> None:
    await stack.link(1, "user0")
    tracks = stack.sandbox.track_ids()
    start = base_time()
    stack.play("user0", tracks[0], start)
    poller = stack.poller()
    await poller.run_once()
    polled = stack.clock.now

    stack.clock.advance(MAX_INTERVAL)
    for n in range(40):
        stack.play("user0", tracks[n + 1], start + timedelta(minutes=n + 1))
    await poller.run_once()

    link = await stack.link_row(1)
    assert link.recent_due_at == stack.clock.now + next_interval(40, stack.clock.now - polled)
    assert link.recent_due_at - stack.clock.now == MAX_INTERVAL * TARGET_PLAYS / 40


def test_next_interval_aims_at_the_target_within_bounds() -> None:
    hour = timedelta(hours=1)
    assert next_interval(TARGET_PLAYS, hour) == hour
    assert next_interval(50, hour) == hour / 2
    assert next_interval(1, timedelta(minutes=1)) == timedelta(minutes=TARGET_PLAYS)
    assert next_interval(1000, hour) == MIN_INTERVAL
    assert next_interval(1, hour) == MAX_INTERVAL
    assert next_interval(0, hour) == MAX_INTERVAL
    assert next_interval(3, None) == MAX_INTERVAL
    assert next_interval(1, hour, full=True) == MIN_INTERVAL


async def test_the_budget_is_never_exceeded_in_any_window(stack: Stack) -> None:
    for number in range(4):
        await stack.link(number, f"user{number}")

    outcomes = await stack.poller(budget=2, window=0.3, concurrency=4).run_once()

    assert outcomes == Counter({PollOutcome.POLLED: 4})
    times = sorted(request.at for request in stack.sandbox.requests_to(RECENT))
    assert len(times) == 4
    assert all(later - earlier >= 0.3 for earlier, later in zip(times, times[2:], strict=False))


async def test_two_processes_never_poll_the_same_member(stack: Stack, db_url: str) -> None:
    for number in range(8):
        await stack.link(number, f"user{number}")
        stack.play(f"user{number}", stack.sandbox.track_ids()[number], base_time())
    other_engine = create_engine(db_url)
    try:
        first = stack.poller(concurrency=3)
        second = stack.poller(concurrency=3, sessions=make_session_factory(other_engine))
        outcomes = await asyncio.gather(first.run_once(), second.run_once())
    finally:
        await other_engine.dispose()

    assert sum(outcomes, Counter()) == Counter({PollOutcome.POLLED: 8})
    per_user = Counter(request.user_id for request in stack.sandbox.requests_to(RECENT))
    assert per_user == {f"user{number}": 1 for number in range(8)}
    for number in range(8):
        assert len(await stack.plays(number)) == 1


async def test_a_poll_whose_claim_was_taken_over_stores_nothing(stack: Stack) -> None:
    await stack.link(1, "user0")
    stack.play("user0", stack.sandbox.track_ids()[0], base_time())
    stack.sandbox.faults.latency(0.2, path=RECENT)
    polling = asyncio.create_task(stack.poller().run_once())
    for _ in range(500):
        if stack.sandbox.requests_to(RECENT):
            break
        await asyncio.sleep(0.01)
    taken_over = stack.clock.now + timedelta(minutes=30)
    async with session_scope(stack.sessions) as session:
        await session.execute(
            update(SpotifyLink)
            .where(SpotifyLink.discord_user_id == 1)
            .values(recent_due_at=taken_over)
        )

    assert await polling == Counter({PollOutcome.SKIPPED: 1})
    assert await stack.plays(1) == []
    assert (await stack.link_row(1)).recent_after_ms is None
