"""Rankings by plays for the ranking commands, and the choice between the two bases.

DESIGN.md "Two bases for every ranking": a command given `time_range` ranks by Spotify top
lists, given `period` by plays; given neither, by plays over the last 30 days when the member
(/top, /compat) or the server (/leaderboard, /whoknows) has a play in the last 30 days, else by
top lists over the last 6 months. Who counts is explained in bot/store/play_rankings.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.db.engine import Sessions, session_scope
from bot.domain import DEFAULT_PERIOD, DEFAULT_TIME_RANGE, InvalidInput, ItemKind, Period, TimeRange
from bot.store import play_rankings as store
from bot.store.crowns import Crown, CrownHolder, crown_holder, member_crowns
from bot.store.guild_plays import ensure_current
from bot.store.play_rankings import PlayBoard, PlayCompat, PlayListener
from bot.store.plays import PlayedItem, has_plays_since
from bot.store.whoknows import Listener, top_list_ranks

Basis = TimeRange | Period
RECENT = timedelta(days=30)
ROLL_DELAY = 5.0
log = logging.getLogger(__name__)


def chosen_basis(time_range: TimeRange | None, period: Period | None) -> Basis | None:
    """The basis the member asked for (None: let the data decide); both is an error."""
    if time_range is not None and period is not None:
        raise InvalidInput("Pick either `time_range` (Spotify top lists) or `period` (plays).")
    return time_range if time_range is not None else period


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PlayWhoKnows:
    item: PlayedItem
    period: Period
    listeners: list[PlayListener]
    top_list_only: list[Listener]  # members with the item in their top lists but no plays
    top_list_range: TimeRange
    crown: CrownHolder | None = None  # artists only


class PlayRankingService:
    def __init__(self, sessions: Sessions, clock: Callable[[], datetime] = _now) -> None:
        self._sessions = sessions
        self._clock = clock
        self._stopping = asyncio.Event()

    async def roll_forever(self) -> None:
        """Move the play boards' rolling windows on at each UTC midnight (and once now), so
        the first ranking of a day does not pay for it (bot/store/guild_plays.py)."""
        while not self._stopping.is_set():
            try:
                async with session_scope(self._sessions) as session:
                    await ensure_current(session)
            except Exception:
                log.exception("rolling the play boards' windows failed")
            now = self._clock()
            midnight = datetime.combine(now.date() + timedelta(days=1), time(), UTC)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), (midnight - now).total_seconds() + ROLL_DELAY
                )

    def stop(self) -> None:
        self._stopping.set()

    async def guild_basis(self, guild_id: int, asked: Basis | None) -> Basis:
        if asked is not None:
            return asked
        async with self._sessions() as session:
            recent = await store.guild_has_plays_since(session, guild_id, self._clock() - RECENT)
        return DEFAULT_PERIOD if recent else DEFAULT_TIME_RANGE

    async def member_basis(self, user_ids: Sequence[int], asked: Basis | None) -> Basis:
        if asked is not None:
            return asked
        async with self._sessions() as session:
            recent = await has_plays_since(session, list(user_ids), self._clock() - RECENT)
        return DEFAULT_PERIOD if recent else DEFAULT_TIME_RANGE

    async def board(
        self, guild_id: int, kind: ItemKind, period: Period, offset: int = 0, limit: int = 10
    ) -> PlayBoard:
        async with session_scope(self._sessions, mostly_reads=True) as session:  # may roll
            return await store.guild_board(session, guild_id, kind, period, offset, limit)

    async def member_top(
        self, discord_user_id: int, kind: ItemKind, period: Period
    ) -> list[tuple[PlayedItem, int]]:
        async with self._sessions() as session:
            return await store.member_top(session, discord_user_id, kind, period)

    async def find_item(
        self, guild_id: int, kind: ItemKind, *, spotify_id: str | None, name: str | None
    ) -> PlayedItem | None:
        """A catalog item by Spotify ID, else by a name played in this guild."""
        async with self._sessions() as session:
            if spotify_id:
                return await store.item_by_spotify_id(session, kind, spotify_id)
            if name:
                found = await store.played_items_named(session, guild_id, kind, name, 1)
                return found[0] if found else None
        return None

    async def known_items(
        self, guild_id: int, kind: ItemKind, text: str, limit: int
    ) -> list[PlayedItem]:
        async with self._sessions() as session:
            return await store.played_items_named(session, guild_id, kind, text, limit)

    async def who_knows(
        self, guild_id: int, item: PlayedItem, period: Period, limit: int = 25
    ) -> PlayWhoKnows:
        """Members by their plays of the item in the period, then members who have it only in
        their top lists (last 6 months; albums have no top lists of their own)."""
        async with session_scope(self._sessions, mostly_reads=True) as session:  # may roll
            listeners = await store.item_listeners(
                session, guild_id, item.kind, item.item_id, period, limit
            )
            ranked: list[Listener] = []
            if item.kind in (ItemKind.ARTIST, ItemKind.TRACK):
                ranked = await top_list_ranks(
                    session, guild_id, item.kind, item.item_id, DEFAULT_TIME_RANGE, limit
                )
            crown = (
                await crown_holder(session, guild_id, item.item_id)
                if item.kind is ItemKind.ARTIST
                else None
            )
        played = {listener.discord_user_id for listener in listeners}
        only = [r for r in ranked if r.discord_user_id not in played][: max(limit - len(played), 0)]
        return PlayWhoKnows(item, period, listeners, only, DEFAULT_TIME_RANGE, crown)

    async def crowns(self, guild_id: int, discord_user_id: int) -> list[Crown]:
        """The artists whose crown the member holds in the guild (bot/store/crowns.py)."""
        async with self._sessions() as session:
            return await member_crowns(session, guild_id, discord_user_id)

    async def compat(self, user_a: int, user_b: int, period: Period) -> PlayCompat | None:
        async with self._sessions() as session:
            return await store.compat_by_plays(session, user_a, user_b, period)
