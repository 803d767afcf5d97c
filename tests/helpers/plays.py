"""Plays in the real store, as import tests see them: how many a member has stored, and a gate
that holds an import between its batches (to test what happens while an import runs)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Sessions
from bot.db.models import CatalogTrack, Play, PlayDay, PlayTotal, TrackArtist
from bot.domain import HistoryPlay, ItemKind
from bot.services import container
from bot.services.imports.importer import PlaySink, RecordCount
from bot.services.imports.storing import Recorder, store_sink
from bot.store.plays import day_number, recent_plays

ALL_PLAYS = 10_000_000


async def stored_plays(sessions: Sessions, discord_user_id: int) -> int:
    """How many plays of the member the plays store holds."""
    async with sessions() as session:
        return len(await recent_plays(session, discord_user_id, limit=ALL_PLAYS))


class StoreGate:
    """Holds an import between its batches: once `close()` was called, each batch waits at
    the gate, before its transaction, until `open()`, then is stored for real; `reached` is
    set when a batch waits there."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.reached = asyncio.Event()

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def wrap(self, sink: PlaySink) -> PlaySink:
        async def gated(discord_user_id: int, plays: Sequence[HistoryPlay], /) -> RecordCount:
            if not self._open.is_set():
                self.reached.set()
                await self._open.wait()
            return await sink(discord_user_id, plays)

        return gated


@pytest.fixture
def store_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[StoreGate]:
    """Bots built while this fixture is active store imported plays through a StoreGate (ask
    for it before `world`, so the bot is built after it)."""
    gate = StoreGate()

    def gated_sink(sessions: Sessions, record: Recorder) -> PlaySink:
        return gate.wrap(store_sink(sessions, record))

    monkeypatch.setattr(container, "store_sink", gated_sink)
    yield gate


async def assert_aggregates_match_a_recount(session: AsyncSession) -> None:
    """play_days and play_totals equal a recount from raw plays and the tracks' credits."""
    albums = dict(
        (await session.execute(select(CatalogTrack.item_id, CatalogTrack.album_item_id))).all()
    )
    credits: dict[int, list[int]] = {}
    for track, artist in await session.execute(
        select(TrackArtist.track_item_id, TrackArtist.artist_item_id).order_by(
            TrackArtist.track_item_id, TrackArtist.position
        )
    ):
        credits.setdefault(track, []).append(artist)
    days: Counter[tuple[int, int, int, int]] = Counter()
    day_ms: Counter[tuple[int, int, int, int]] = Counter()
    for user, track, started, ms in await session.execute(
        select(Play.discord_user_id, Play.track_item_id, Play.started_at, Play.ms_played)
    ):
        items = [(int(ItemKind.TRACK), track)]
        if albums.get(track) is not None:
            items.append((int(ItemKind.ALBUM), albums[track]))
        items += [(int(ItemKind.ARTIST), a) for a in dict.fromkeys(credits.get(track, []))]
        for kind, item in items:
            key = (user, kind, day_number(started), item)
            days[key] += 1
            day_ms[key] += ms
    stored_days = {
        (u, k, d, i): (p, m)
        for u, k, d, i, p, m in await session.execute(
            select(
                PlayDay.discord_user_id,
                PlayDay.kind,
                PlayDay.day,
                PlayDay.item_id,
                PlayDay.plays,
                PlayDay.ms_played,
            )
        )
    }
    assert stored_days == {key: (days[key], day_ms[key]) for key in days}
    totals: Counter[tuple[int, int, int]] = Counter()
    total_ms: Counter[tuple[int, int, int]] = Counter()
    for (u, k, _, i), n in days.items():
        totals[(u, k, i)] += n
        total_ms[(u, k, i)] += day_ms[(u, k, _, i)]
    stored_totals = {
        (u, k, i): (p, m)
        for u, k, i, p, m in await session.execute(
            select(
                PlayTotal.discord_user_id,
                PlayTotal.kind,
                PlayTotal.item_id,
                PlayTotal.plays,
                PlayTotal.ms_played,
            )
        )
    }
    assert stored_totals == {key: (totals[key], total_ms[key]) for key in totals}


async def assert_no_stored_duplicates(session: AsyncSession) -> None:
    durations = dict(
        (await session.execute(select(CatalogTrack.item_id, CatalogTrack.duration_ms))).all()
    )
    by_key: dict[tuple[int, int], list[tuple[datetime, int]]] = {}
    for user, track, started, ms in await session.execute(
        select(Play.discord_user_id, Play.track_item_id, Play.started_at, Play.ms_played)
    ):
        by_key.setdefault((user, track), []).append((started, ms))
    for (_, track), plays in by_key.items():
        plays.sort()
        for (a, a_ms), (b, b_ms) in itertools.pairwise(plays):
            length = durations.get(track) or max(a_ms, b_ms) or 30_000
            assert b - a >= timedelta(milliseconds=length)
