"""An in-memory stand-in for the plays store (`bot.store.plays.record_plays`) until it is merged:
stores each play once per (member, start, track), as the real store dedupes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import PlayIn
from bot.services import container


@dataclass(frozen=True)
class FakeRecordResult:
    added: int
    duplicates: int


class FakePlayStore:
    def __init__(self) -> None:
        self.plays: dict[tuple[int, object, str], PlayIn] = {}
        self.calls = 0
        self.gate: asyncio.Event | None = None  # when set, storing waits for it to open
        self.at_gate = asyncio.Event()

    async def record(self, session: AsyncSession, plays: Sequence[PlayIn]) -> FakeRecordResult:
        self.calls += 1
        if self.gate is not None:
            self.at_gate.set()
            await self.gate.wait()
        added = 0
        for play in plays:
            key = (play.discord_user_id, play.started_at, play.track_name)
            if key not in self.plays:
                self.plays[key] = play
                added += 1
        return FakeRecordResult(added, len(plays) - added)

    def of(self, discord_user_id: int) -> list[PlayIn]:
        return [play for play in self.plays.values() if play.discord_user_id == discord_user_id]


@pytest.fixture
def fake_plays(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlayStore]:
    """Bots built while this fixture is active store imported plays in a FakePlayStore (ask
    for it before `world`, so the bot is built after it)."""
    store = FakePlayStore()
    monkeypatch.setattr(container, "RECORD_PLAYS", store.record)
    yield store
