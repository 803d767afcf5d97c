"""The gateway reader takes turns with everything else on the event loop.

discord.py reads each shard's websocket in one task, a message at a time. While messages are
already buffered (thousands of presence updates a second arrive in big reads), awaiting the
next one never suspends, so that task parses update after update and nothing else runs: an
interaction whose frame was read a moment ago waits, its task created but not started, until
the buffer is empty. Under 2,000 presence updates a second that held commands back by
hundreds of milliseconds. `share_the_loop` makes the reader step aside once it has held the
loop for `SLICE_SECONDS`, so interactions and database replies run in between, at no cost
to the rate it reads at.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from discord.gateway import DiscordWebSocket

SLICE_SECONDS = 0.005
_SLICE_STARTED = "_encore_slice_started"
_PATCHED = "_encore_shares_the_loop"


def share_the_loop(slice_seconds: float = SLICE_SECONDS) -> None:
    """Make every gateway connection of this process yield after `slice_seconds` of reading
    (idempotent)."""
    original: Callable[[Any], Awaitable[None]] = DiscordWebSocket.poll_event
    if getattr(original, _PATCHED, False):
        return

    async def poll_event(self: DiscordWebSocket) -> None:
        await original(self)
        now = time.perf_counter()
        started = getattr(self, _SLICE_STARTED, None)
        if started is None:
            setattr(self, _SLICE_STARTED, now)
        elif now - started >= slice_seconds:
            await asyncio.sleep(0)
            setattr(self, _SLICE_STARTED, time.perf_counter())

    setattr(poll_event, _PATCHED, True)
    poll_event.__doc__ = original.__doc__
    DiscordWebSocket.poll_event = poll_event  # type: ignore[method-assign]
