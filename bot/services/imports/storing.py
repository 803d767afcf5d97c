"""The sink the bot's imports store through: each batch in a transaction of its own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from bot.db.engine import Session, Sessions, session_scope
from bot.domain import HistoryPlay
from bot.services.imports.importer import PlaySink, RecordCount

Recorder = Callable[[Session, int, Sequence[HistoryPlay]], Awaitable[RecordCount]]


def store_sink(sessions: Sessions, record: Recorder) -> PlaySink:
    """A sink that stores each batch with `record` (`bot.store.play_imports.HistoryRecorder`)
    in a transaction of its own; plays grow the shared catalog, hence `shared_writes`."""

    async def sink(discord_user_id: int, plays: Sequence[HistoryPlay], /) -> RecordCount:
        async with session_scope(sessions, shared_writes=True) as session:
            return await record(session, discord_user_id, plays)

    return sink
