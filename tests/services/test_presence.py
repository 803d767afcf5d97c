"""The presence tracker: the play rule, one listening per member across guilds and bursts,
the recording switches, and the batched writer."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.db.engine import Sessions
from bot.domain import PlayIn, SpotifyActivity
from bot.services.presence import PresenceTracker, counts
from bot.services.recording import RecordingSwitches

GUILD, OTHER_GUILD, QUIET_GUILD = 1, 2, 3
ALICE, BOB = 10, 11
T0 = 1_780_000_000_000


def activity(track: str, start: int, length: int = 200_000) -> SpotifyActivity:
    return SpotifyActivity(
        track, f"title {track}", ("Artist",), "Album", None, start, start + length
    )


class Sink:
    def __init__(self) -> None:
        self.batches: list[list[PlayIn]] = []
        self.fail = False

    async def __call__(self, plays: Sequence[PlayIn]) -> None:
        if self.fail:
            raise ConnectionError("database went away")
        self.batches.append(list(plays))

    @property
    def plays(self) -> list[PlayIn]:
        return [p for batch in self.batches for p in batch]


class Clock:
    ms = T0

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
async def switches(db_sessions: Sessions) -> RecordingSwitches:
    found = RecordingSwitches(db_sessions)
    await found.set_guild(GUILD, True)
    await found.set_guild(OTHER_GUILD, True)
    return found


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def tracker(switches: RecordingSwitches, sink: Sink, clock: Clock) -> PresenceTracker:
    return PresenceTracker(switches, sink, batch_size=2, clock=clock)


@pytest.mark.parametrize(
    ("heard", "length", "expected"),
    [
        (29_999, 40_000, False),  # under 30 s, though more than half
        (30_000, 40_000, True),
        (99_999, 200_000, False),  # under half
        (100_000, 200_000, True),
        (240_000, 900_000, True),  # 4 minutes of a long track
        (239_999, 900_000, False),
    ],
)
def test_the_rule(heard: int, length: int, expected: bool) -> None:
    assert counts(heard, length) is expected


async def test_track_changes_give_plays_judged_from_the_activity_start(
    tracker: PresenceTracker, sink: Sink, clock: Clock
) -> None:
    start = T0 - 150_000  # the bot first sees a track already 150 s in
    clock.ms = T0
    tracker.update(GUILD, ALICE, activity("a", start))
    clock.ms = start + 120_000 + 30_000  # changed at 150 s of 200 s
    tracker.update(GUILD, ALICE, activity("b", clock.ms))
    clock.ms += 20_000  # skipped after 20 s
    tracker.update(GUILD, ALICE, activity("c", clock.ms))
    await tracker.flush()
    assert [(p.track_id, p.ms_played) for p in sink.plays] == [("a", 150_000)]
    assert int(sink.plays[0].started_at.timestamp() * 1000) == start


async def test_a_burst_and_other_guilds_change_nothing(
    tracker: PresenceTracker, sink: Sink, clock: Clock
) -> None:
    for guild in (GUILD, OTHER_GUILD, GUILD, QUIET_GUILD):
        tracker.update(guild, ALICE, activity("a", T0))
    clock.ms = T0 + 200_000
    for guild in (GUILD, OTHER_GUILD, QUIET_GUILD):
        tracker.update(guild, ALICE, None)
    await tracker.flush()
    assert [p.track_id for p in sink.plays] == ["a"]
    assert sink.plays[0].ms_played == 200_000


async def test_a_seek_is_the_same_listening_and_a_repeat_a_new_one(
    tracker: PresenceTracker, sink: Sink, clock: Clock
) -> None:
    tracker.update(GUILD, ALICE, activity("a", T0))
    clock.ms = T0 + 60_000
    tracker.update(GUILD, ALICE, activity("a", T0 - 30_000))  # seek forward 30 s
    clock.ms = T0 + 170_000
    tracker.update(GUILD, ALICE, activity("a", T0 + 170_000))  # played again from the top
    clock.ms = T0 + 170_000 + 200_000
    tracker.update(GUILD, ALICE, None)
    await tracker.flush()
    assert [int(p.started_at.timestamp() * 1000) for p in sink.plays] == [T0, T0 + 170_000]


async def test_only_where_a_guild_records(
    tracker: PresenceTracker, sink: Sink, clock: Clock
) -> None:
    tracker.update(QUIET_GUILD, BOB, activity("a", T0))
    assert tracker.current(BOB) == activity("a", T0), "still shown by /nowplaying"
    clock.ms = T0 + 200_000
    tracker.update(QUIET_GUILD, BOB, None)
    await tracker.flush()
    assert sink.plays == []


async def test_a_member_who_said_record_false_is_never_recorded(
    tracker: PresenceTracker, switches: RecordingSwitches, sink: Sink, clock: Clock
) -> None:
    tracker.update(GUILD, ALICE, activity("a", T0))
    clock.ms = T0 + 200_000
    tracker.update(GUILD, ALICE, activity("b", clock.ms))  # "a" queued
    tracker.update(GUILD, BOB, activity("a", T0))
    tracker.stop_recording(ALICE)
    await switches.set_member(ALICE, False)
    clock.ms += 200_000
    tracker.update(GUILD, ALICE, None)
    tracker.update(GUILD, BOB, None)
    await tracker.flush()
    assert [p.discord_user_id for p in sink.plays] == [BOB]


async def test_another_process_saying_record_false_is_honoured_at_write_time(
    tracker: PresenceTracker, db_sessions: Sessions, sink: Sink, clock: Clock
) -> None:
    elsewhere = RecordingSwitches(db_sessions)
    tracker.update(GUILD, ALICE, activity("a", T0))
    clock.ms = T0 + 200_000
    tracker.update(GUILD, ALICE, None)
    await elsewhere.set_member(ALICE, False)
    await tracker.flush()
    assert sink.plays == []


async def test_writes_in_batches_and_keeps_a_failed_batch(
    tracker: PresenceTracker, sink: Sink, clock: Clock
) -> None:
    for user in range(100, 105):
        tracker.update(GUILD, user, activity("a", T0))
    clock.ms = T0 + 200_000
    for user in range(100, 105):
        tracker.update(GUILD, user, None)
    sink.fail = True
    with pytest.raises(ConnectionError):
        await tracker.flush()
    assert tracker.pending_count == 5
    sink.fail = False
    assert await tracker.flush() == 5
    assert [len(b) for b in sink.batches] == [2, 2, 1]


async def test_the_queue_is_bounded(switches: RecordingSwitches, sink: Sink, clock: Clock) -> None:
    tracker = PresenceTracker(switches, sink, max_pending=3, clock=clock)
    for user in range(100, 105):
        tracker.update(GUILD, user, activity("a", T0))
    clock.ms = T0 + 200_000
    for user in range(100, 105):
        tracker.update(GUILD, user, None)
    assert tracker.pending_count == 3
    assert tracker.dropped == 2


async def test_close_writes_what_is_queued_but_not_a_listening_in_progress(
    tracker: PresenceTracker, sink: Sink, clock: Clock
) -> None:
    tracker.update(GUILD, ALICE, activity("a", T0))
    clock.ms = T0 + 200_000
    tracker.update(GUILD, ALICE, activity("b", clock.ms))
    await tracker.close()
    assert [p.track_id for p in sink.plays] == ["a"]
