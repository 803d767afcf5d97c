"""Recently-played polling: linked members' plays from `GET /me/player/recently-played`.

Spotify keeps only a member's last 50 plays, so each member is polled before they can have
played more: the next poll is due from their recent rate (the plays the last poll found over
the time since the one before), aiming at `TARGET_PLAYS` new plays per poll, between
`MIN_INTERVAL` and `MAX_INTERVAL`; a poll that found a full page comes back after
`MIN_INTERVAL`. The `after` cursor (the newest `played_at` stored) is kept per member, so a poll
reads exactly the plays since the last one.

Claims across processes work like the background sync's (bot/services/sync.py), on the link's
own `recent_due_at`: leased in a short transaction, fenced by the lease when the plays, the
cursor and the next due time are stored together in one transaction. Requests go through a
`BackgroundSpender`: within this source's share of the budget, never during a 429 cooldown.
Members whose link predates the listening scopes are never claimed (see bot/store/recent_polls.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.db.engine import Sessions, session_scope
from bot.domain import PlayIn, PlaySource
from bot.services.accounts import AccountService
from bot.services.member_turns import (
    IDLE_POLL_SECONDS,
    MIN_IDLE_SECONDS,
    Backoff,
    LeaseLost,
    Quota,
    Turn,
    retry_collisions,
    run_passes,
    take_turn,
)
from bot.services.spending import BackgroundSpender
from bot.spotify.errors import MissingScope
from bot.spotify.models import PlayHistory, RecentPlays
from bot.spotify.paging import PAGE_SIZE
from bot.store.plays import record_plays
from bot.store.recent_polls import (
    PollClaim,
    claim_most_overdue_poll,
    next_poll_due,
    update_poll_claimed,
)

log = logging.getLogger(__name__)

TARGET_PLAYS = 25
MIN_INTERVAL = timedelta(minutes=3)
MAX_INTERVAL = timedelta(hours=2)
"""At most ~35 plays of 3.5 min fit in two hours, well under Spotify's 50."""
MAX_PAGES = 5
DEFAULT_LEASE = timedelta(minutes=10)
DEFAULT_CONCURRENCY = 4

MayRecord = Callable[[int], Awaitable[bool]]


class PollOutcome(StrEnum):
    POLLED = "polled"  # plays (if any) stored, cursor and next due time moved
    DEFERRED = "deferred"  # failed or rate limited: due again later
    STOPPED = "stopped"  # revoked, broken or not allow-listed: not polled until /link
    SKIPPED = "skipped"  # taken over by another process, or the link went away


_OUTCOMES = {
    Turn.DONE: PollOutcome.POLLED,
    Turn.DEFERRED: PollOutcome.DEFERRED,
    Turn.STOPPED: PollOutcome.STOPPED,
    Turn.SKIPPED: PollOutcome.SKIPPED,
}


def _now() -> datetime:
    return datetime.now(UTC)


async def _always(discord_user_id: int) -> bool:
    return True


def next_interval(found: int, since: timedelta | None, *, full: bool = False) -> timedelta:
    """How long until the next poll when the last one found `found` plays over `since`: the
    time the member needs for `TARGET_PLAYS` plays at that rate, within the bounds."""
    if full:
        return MIN_INTERVAL
    if found == 0 or since is None or since <= timedelta(0):
        return MAX_INTERVAL
    return min(MAX_INTERVAL, max(MIN_INTERVAL, since * TARGET_PLAYS / found))


def play_from_history(discord_user_id: int, history: PlayHistory) -> PlayIn:
    """A recently-played entry as a play. Spotify's `played_at` is when the track ended, so
    the play started one track length before it (the whole track counts as heard)."""
    track = history.track
    duration = track.duration_ms or 0
    album = track.album
    return PlayIn(
        discord_user_id=discord_user_id,
        started_at=history.played_at.astimezone(UTC) - timedelta(milliseconds=duration),
        ms_played=duration,
        source=PlaySource.RECENTLY_PLAYED,
        track_name=track.name,
        artist_names=tuple(artist.name for artist in track.artists),
        album_name=album.name if album is not None else None,
        track_id=None if track.is_local else track.id,
        artist_ids=() if track.is_local else tuple(artist.id for artist in track.artists),
        album_id=album.id if album is not None and not track.is_local else None,
        duration_ms=track.duration_ms,
        image_url=album.image_url if album is not None else None,
    )


class RecentlyPlayedPoller:
    """Polls due members' recently-played and records the plays it finds."""

    def __init__(
        self,
        sessions: Sessions,
        accounts: AccountService,
        spender: BackgroundSpender,
        *,
        may_record: MayRecord = _always,
        clock: Callable[[], datetime] = _now,
        concurrency: int = DEFAULT_CONCURRENCY,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._sessions = sessions
        self._accounts = accounts
        self._spender = spender
        self._may_record = may_record
        self._clock = clock
        self._concurrency = concurrency
        self._lease = lease
        self._stopping = asyncio.Event()
        self._backoff = Backoff(MAX_INTERVAL)
        self._writing = asyncio.Lock()

    async def run_forever(self) -> None:
        """Poll due members pass after pass until stopped or cancelled, sleeping between
        passes until the next member is due (at most a minute)."""
        await run_passes(self.run_once, self._idle_seconds, self._stopping, what="recently-played")

    def stop(self) -> None:
        self._stopping.set()

    async def run_once(self, max_members: int | None = None) -> Counter[PollOutcome]:
        """Poll members until none is due (or `max_members` were claimed)."""
        outcomes: Counter[PollOutcome] = Counter()
        quota = Quota(max_members)

        async def work() -> None:
            while quota.take() and not self._stopping.is_set():
                await self._spender.pause_for_cooldown()
                claim = await self._claim()
                if claim is None:
                    return
                outcomes[await self._poll(claim)] += 1

        async with asyncio.TaskGroup() as group:
            for _ in range(self._concurrency):
                group.create_task(work())
        return outcomes

    async def _claim(self) -> PollClaim | None:
        now = self._clock()
        async with session_scope(self._sessions) as session:
            return await claim_most_overdue_poll(session, now, now + self._lease)

    async def _poll(self, claim: PollClaim) -> PollOutcome:
        user_id = claim.discord_user_id

        async def work() -> Turn:
            try:
                plays, cursor, full = await self._fetch(claim)
            except MissingScope:
                log.info("member %s did not grant recently-played after all", user_id)
                await self._put_back(claim, MAX_INTERVAL)
                return Turn.DEFERRED
            await self._store(claim, plays, cursor, full)
            return Turn.DONE

        turn = await take_turn(
            user_id,
            work,
            accounts=self._accounts,
            backoff=self._backoff,
            put_back=functools.partial(self._put_back, claim),
            what="recently-played",
        )
        return _OUTCOMES[turn]

    async def _fetch(self, claim: PollClaim) -> tuple[list[PlayHistory], int | None, bool]:
        """The plays after the member's cursor, oldest first, the new cursor, and whether a
        page came back full (the member may have played more than Spotify keeps)."""
        api = self._accounts.api(claim.discord_user_id, interactive=False)
        plays: list[PlayHistory] = []
        cursor = claim.after_ms
        full = False
        for _ in range(MAX_PAGES):
            await self._keep_lease(claim)
            page: RecentPlays = await self._spender.call(
                functools.partial(api.recently_played, after_ms=cursor, max_pages=1)
            )
            plays.extend(page.plays)
            cursor = page.cursor_ms
            if len(page.plays) < PAGE_SIZE:
                break
            full = True
            if claim.after_ms is None:
                break
        return plays, cursor, full

    async def _keep_lease(self, claim: PollClaim) -> None:
        """Renew the lease once half of it is gone (a long cooldown), or give the member up."""
        now = self._clock()
        if claim.lease_until - now > self._lease / 2:
            return
        renewed = now + self._lease
        async with session_scope(self._sessions) as session:
            held = await update_poll_claimed(
                session, claim.discord_user_id, claim.lease_until, due_at=renewed
            )
        if not held:
            raise LeaseLost()
        claim.lease_until = renewed

    def _due_after(self, claim: PollClaim, plays: list[PlayHistory], full: bool) -> timedelta:
        now = self._clock()
        if claim.polled_at is not None:
            since: timedelta | None = now - claim.polled_at
        elif plays:
            since = now - min(play.played_at for play in plays)
        else:
            since = None
        return next_interval(len(plays), since, full=full)

    async def _store(
        self, claim: PollClaim, plays: list[PlayHistory], cursor: int | None, full: bool
    ) -> None:
        """Plays, cursor and next due time in one transaction, while the claim holds; a
        deadlock or serialization failure is retried."""
        user_id = claim.discord_user_id
        record = bool(plays) and await self._may_record(user_id)
        found = [play_from_history(user_id, play) for play in plays] if record else []
        interval = self._due_after(claim, plays, full)

        async def store() -> None:
            async with self._writing:
                now = self._clock()
                async with session_scope(self._sessions, shared_writes=True) as session:
                    held = await update_poll_claimed(
                        session,
                        user_id,
                        claim.lease_until,
                        due_at=now + interval,
                        after_ms=cursor,
                        polled_at=now,
                    )
                    if not held:
                        raise LeaseLost()
                    if found:
                        await record_plays(session, found)

        await retry_collisions(store, what=f"storing plays of member {user_id}")

    async def _put_back(self, claim: PollClaim, wait: timedelta) -> None:
        async with session_scope(self._sessions) as session:
            await update_poll_claimed(
                session, claim.discord_user_id, claim.lease_until, due_at=self._clock() + wait
            )

    async def _idle_seconds(self) -> float:
        """Seconds until the next member is due, between 1 s and a minute."""
        now = self._clock()
        async with self._sessions() as session:
            due = await next_poll_due(session, now)
        if due is None:
            return IDLE_POLL_SECONDS
        wait = (due - now).total_seconds()
        return min(IDLE_POLL_SECONDS, max(MIN_IDLE_SECONDS, wait))
