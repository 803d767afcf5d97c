"""Presence in end-to-end tests: play Spotify on the Discord stand-in and wait until the bot's
presence tracker has seen it; a clock the test moves; the plays stored for a member."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from bot.app import Encore
from bot.services.presence import PresenceTracker
from bot.store.plays import PlayRow, recent_plays
from sandbox.discord_models import StandInUser
from tests.helpers.world import World


class Clock:
    """Unix ms the tracker reads as "now"; starts at the real time."""

    def __init__(self) -> None:
        self.ms = int(datetime.now(UTC).timestamp() * 1000)

    def __call__(self) -> int:
        return self.ms

    def at(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)


def use_clock(bot: Encore, clock: Clock) -> PresenceTracker:
    tracker = bot.services.presence
    tracker.clock = clock
    return tracker


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:  # noqa: ASYNC109
    """Poll the bot's in-memory state, which signals no event when it changes."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def listen(world: World, bot: Encore, user: StandInUser, track_id: str, start_ms: int) -> int:
    """`user` starts `track_id` at `start_ms`; returns when the bot saw it; its length in ms."""
    track = world.spotify.presence_track(track_id)
    world.discord.play_spotify(user, track, started_at=datetime.fromtimestamp(start_ms / 1000, UTC))
    tracker = bot.services.presence

    def seen() -> bool:
        current = tracker.current(user.id)
        return (
            current is not None
            and current.track_id == track_id
            and (abs(current.start_ms - start_ms) < 2)
        )

    await until(seen)
    return track.duration_ms


async def stop(world: World, bot: Encore, user: StandInUser) -> None:
    world.discord.stop_spotify(user)
    await until(lambda: bot.services.presence.current(user.id) is None)


async def stored_plays(bot: Encore, user: StandInUser) -> list[PlayRow]:
    """The member's stored plays, oldest first, after writing what the tracker queued."""
    await bot.services.presence.flush()
    async with bot.sessions() as session:
        return list(reversed(await recent_plays(session, user.id, limit=100)))
