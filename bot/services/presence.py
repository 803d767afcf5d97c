"""Plays from Discord presence: each member's current Spotify listening, kept in memory, and
the plays it gives, written in batches off the interaction path.

The rule (Last.fm's, DESIGN.md "Where plays come from"): a listening counts when it lasted at
least 30 s and at least half the track or 4 minutes, judged from the activity's own start
(`timestamps.start`) and the moment the track changed or the activity ended. So a bot that
starts mid-track counts the whole listening from its true start, and a burst of updates for
one listening (one per guild the member shares with the bot, repeats) changes nothing.

State is per Discord user, not per guild: a member in several guilds is recorded once, when
any of those guilds records. A listening in progress when the process stops is not written:
the next process sees the same activity (same start) and records it when it ends; the plays
store would drop a second copy anyway (same member, same track, starts closer than its
length).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain import PlayIn, PlaySource, SpotifyActivity
from bot.services.recording import RecordingSwitches

log = logging.getLogger(__name__)

MIN_HEARD_MS = 30_000
ENOUGH_HEARD_MS = 4 * 60_000
SAME_LISTENING_SLACK_MS = 2_000
"""A new activity for the same track that starts before the old one ends (less this) is the
same listening moved by a seek or a resume, not a repeat."""
BATCH_SIZE = 500
FLUSH_SECONDS = 2.0
MAX_PENDING = 50_000
REFRESH_SECONDS = 60.0

PlaySink = Callable[[Sequence[PlayIn]], Awaitable[object]]


def counts(heard_ms: int, duration_ms: int) -> bool:
    """Whether a listening of `heard_ms` of a `duration_ms` track is a play."""
    needed = ENOUGH_HEARD_MS if duration_ms <= 0 else min(duration_ms // 2, ENOUGH_HEARD_MS)
    return heard_ms >= max(MIN_HEARD_MS, needed)


@dataclass(slots=True)
class Listening:
    """What a member is listening to now, as far as presence tells."""

    activity: SpotifyActivity
    started_ms: int  # the first start seen for this listening (a seek moves the activity's)
    recordable: bool  # seen in a guild that records


def _epoch_ms() -> int:
    return time.time_ns() // 1_000_000


class PresenceTracker:
    def __init__(
        self,
        switches: RecordingSwitches,
        sink: PlaySink,
        *,
        batch_size: int = BATCH_SIZE,
        flush_seconds: float = FLUSH_SECONDS,
        max_pending: int = MAX_PENDING,
        clock: Callable[[], int] = _epoch_ms,
    ) -> None:
        self._switches = switches
        self._sink = sink
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self.clock = clock
        self._now: dict[int, Listening] = {}
        self._pending: deque[PlayIn] = deque(maxlen=max_pending)
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._stopping = False
        self.dropped = 0
        self.written = 0

    # --- the gateway side (synchronous, cheap) ---------------------------------------------

    def update(self, guild_id: int, user_id: int, activity: SpotifyActivity | None) -> None:
        """A presence of `user_id` seen in `guild_id`: their Spotify activity, or None."""
        current = self._now.get(user_id)
        if activity is None:
            if current is not None:
                del self._now[user_id]
                self._finish(user_id, current, self.clock())
            return
        records = self._switches.guild_records(guild_id)
        if current is not None:
            old = current.activity
            if old.track_id == activity.track_id and (
                activity.start_ms == old.start_ms
                or activity.start_ms < old.end_ms - SAME_LISTENING_SLACK_MS
            ):
                current.activity = activity
                current.recordable = current.recordable or records
                return
            self._finish(user_id, current, self.clock())
        self._now[user_id] = Listening(activity, activity.start_ms, records)

    def current(self, user_id: int) -> SpotifyActivity | None:
        listening = self._now.get(user_id)
        return None if listening is None else listening.activity

    @property
    def listening_count(self) -> int:
        return len(self._now)

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def stop_recording(self, user_id: int) -> None:
        """The member said record:false: their listening now and queued plays are dropped."""
        listening = self._now.get(user_id)
        if listening is not None:
            listening.recordable = False
        if any(p.discord_user_id == user_id for p in self._pending):
            kept = [p for p in self._pending if p.discord_user_id != user_id]
            self._pending.clear()
            self._pending.extend(kept)

    def _finish(self, user_id: int, listening: Listening, now_ms: int) -> None:
        if not listening.recordable or not self._switches.member_records(user_id):
            return
        activity = listening.activity
        ended = min(now_ms, activity.end_ms)
        duration = activity.duration_ms
        heard = ended - listening.started_ms
        if duration > 0:
            heard = min(heard, duration)
        if not counts(heard, duration):
            return
        if len(self._pending) == self._pending.maxlen:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("presence plays queue full; %d plays dropped", self.dropped)
        self._pending.append(
            PlayIn(
                discord_user_id=user_id,
                started_at=datetime.fromtimestamp(listening.started_ms / 1000, UTC),
                ms_played=heard,
                source=PlaySource.PRESENCE,
                track_name=activity.title,
                artist_names=activity.artists,
                album_name=activity.album,
                track_id=activity.track_id or None,
                duration_ms=duration or None,
                image_url=activity.cover_url,
            )
        )
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    # --- the writer ---------------------------------------------------------------------------

    async def flush(self) -> int:
        """Write every queued play now; returns how many were offered to the store."""
        offered = 0
        async with self._writing:
            while self._pending:
                batch = [
                    self._pending.popleft()
                    for _ in range(min(self._batch_size, len(self._pending)))
                ]
                opted_out = await self._switches.opted_out_among({p.discord_user_id for p in batch})
                batch = [p for p in batch if p.discord_user_id not in opted_out]
                if batch:
                    try:
                        await self._sink(batch)
                    except Exception:
                        self._pending.extendleft(reversed(batch))
                        raise
                offered += len(batch)
        self.written += offered
        return offered

    async def run(self) -> None:
        """Write queued plays every few seconds (sooner when a batch fills) until stopped;
        re-read the recording switches now and then. Failures are logged and retried."""
        refreshed = time.monotonic()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._flush_seconds)
            self._wake.clear()
            try:
                await self.flush()
                if time.monotonic() - refreshed > REFRESH_SECONDS:
                    refreshed = time.monotonic()
                    await self._switches.refresh()
            except Exception:
                log.exception("writing presence plays failed; retrying")
                await asyncio.sleep(self._flush_seconds)

    async def close(self) -> None:
        """Stop the writer loop and write what is queued (listenings in progress stay unwritten)."""
        self._stopping = True
        self._wake.set()
        await self.flush()
