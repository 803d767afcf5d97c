"""The shared Spotify limits row (see bot/services/limits.py for the scheme).

Every write is one UPDATE on the row, which holds its lock (PostgreSQL's row lock, SQLite's
single writer) only for that statement's transaction: processes take turns, none waits long.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db.engine import upsert_insert
from bot.db.models import SpotifyLimits


@dataclass(frozen=True)
class SyncGrants:
    """`count` background requests may go at `first_at`, `first_at + spacing`, ..."""

    first_at: float
    count: int
    spacing: float
    cooldown_until: float

    def times(self) -> list[float]:
        return [self.first_at + i * self.spacing for i in range(self.count)]


@dataclass(frozen=True)
class InteractiveGrants:
    """Commands' requests counted in the window, and how many of `count` went beyond the
    share reserved for commands (those were taken from the background sync's schedule)."""

    used: int
    over_share: int
    cooldown_until: float


def _later(column: InstrumentedAttribute[float], moment: float) -> ColumnElement[float]:
    """The later of a column and a moment, on both dialects (no GREATEST in SQLite)."""
    return case((column > moment, column), else_=moment)


async def ensure_limits(session: AsyncSession, name: str) -> None:
    """Create the app's row unless it exists."""
    insert = upsert_insert(session)
    await session.execute(
        insert(SpotifyLimits)
        .values(
            name=name, sync_next_at=0.0, interactive_window=0, interactive_used=0, cooldown_until=0
        )
        .on_conflict_do_nothing(index_elements=["name"])
    )


async def claim_sync_grants(
    session: AsyncSession, name: str, now: float, count: int, spacing: float
) -> SyncGrants:
    """Take the next `count` background grants, `spacing` seconds apart, no earlier than `now`
    (time nobody used is not made up for with a burst)."""
    start = _later(SpotifyLimits.sync_next_at, now)
    row = (
        await session.execute(
            update(SpotifyLimits)
            .where(SpotifyLimits.name == name)
            .values(sync_next_at=start + count * spacing)
            .returning(SpotifyLimits.sync_next_at, SpotifyLimits.cooldown_until)
            .execution_options(synchronize_session=False)
        )
    ).one()
    next_at, cooldown_until = float(row[0]), float(row[1])
    return SyncGrants(next_at - count * spacing, count, spacing, cooldown_until)


async def count_interactive(
    session: AsyncSession,
    name: str,
    now: float,
    *,
    window: float,
    count: int,
    share: int,
    spacing: float,
) -> InteractiveGrants:
    """Count `count` commands' requests in the current window; those beyond `share` push the
    background sync's schedule back by `spacing` each, so both together stay in the budget."""
    current = int(now // window)
    same = SpotifyLimits.interactive_window == current
    row = (
        await session.execute(
            update(SpotifyLimits)
            .where(SpotifyLimits.name == name)
            .values(
                interactive_used=case((same, SpotifyLimits.interactive_used), else_=0) + count,
                interactive_window=current,
            )
            .returning(SpotifyLimits.interactive_used, SpotifyLimits.cooldown_until)
            .execution_options(synchronize_session=False)
        )
    ).one()
    used, cooldown_until = int(row[0]), float(row[1])
    over = min(count, max(0, used - share))
    if over:
        await session.execute(
            update(SpotifyLimits)
            .where(SpotifyLimits.name == name)
            .values(sync_next_at=_later(SpotifyLimits.sync_next_at, now) + over * spacing)
            .execution_options(synchronize_session=False)
        )
    return InteractiveGrants(used, over, cooldown_until)


async def raise_cooldown(session: AsyncSession, name: str, until: float) -> float:
    """Extend the shared cooldown to at least `until`; returns its end."""
    ends = await session.scalar(
        update(SpotifyLimits)
        .where(SpotifyLimits.name == name)
        .values(cooldown_until=_later(SpotifyLimits.cooldown_until, until))
        .returning(SpotifyLimits.cooldown_until)
        .execution_options(synchronize_session=False)
    )
    return float(ends or until)


async def read_cooldown(session: AsyncSession, name: str) -> float:
    """When the shared cooldown ends (0 when there never was one)."""
    ends = await session.scalar(
        select(SpotifyLimits.cooldown_until).where(SpotifyLimits.name == name)
    )
    return float(ends or 0.0)
