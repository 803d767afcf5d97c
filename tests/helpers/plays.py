"""Plays in the real store, as import tests see them: how many a member has stored, and a gate
that holds the store's import recorder open (to test what happens while an import runs)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Sessions
from bot.domain import HistoryPlay
from bot.services import container
from bot.store.play_imports import HistoryRecorder
from bot.store.plays import RecordResult, recent_plays

ALL_PLAYS = 10_000_000


async def stored_plays(sessions: Sessions, discord_user_id: int) -> int:
    """How many plays of the member the plays store holds."""
    async with sessions() as session:
        return len(await recent_plays(session, discord_user_id, limit=ALL_PLAYS))


class StoreGate:
    """Wraps `HistoryRecorder.record`: once `close()` was called, each call waits at the gate
    until `open()`, then stores for real; `reached` is set when a call waits there."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.reached = asyncio.Event()
        self._recorder = HistoryRecorder()

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    async def record(
        self, session: AsyncSession, discord_user_id: int, plays: Sequence[HistoryPlay]
    ) -> RecordResult:
        if not self._open.is_set():
            self.reached.set()
            await self._open.wait()
        return await self._recorder.record(session, discord_user_id, plays)


@pytest.fixture
def store_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreGate]:
    """Bots built while this fixture is active store imported plays through a StoreGate (ask
    for it before `world`, so the bot is built after it)."""
    gate = StoreGate()
    monkeypatch.setattr(container, "HistoryRecorder", lambda: gate)
    yield gate
