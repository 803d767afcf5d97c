"""Picking the most overdue link for a background loop (the sync, the recently-played poller)
so that several processes never take the same member."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db.models import SpotifyLink


async def most_overdue(
    session: AsyncSession,
    due: ColumnElement[bool],
    due_at: InstrumentedAttribute[object],
) -> ColumnElement[bool] | None:
    """A condition on the most overdue link matching `due` (ordered by `due_at`, never-due
    first), for the claiming UPDATE to repeat `due` with; None when none is due.

    The first statement of its transaction. PostgreSQL picks with `FOR UPDATE SKIP LOCKED`
    (concurrent claimers take different rows instead of waiting); SQLite updates through a
    subquery, which takes the database's single write lock before reading.
    """
    pick = select(SpotifyLink.discord_user_id).where(due).order_by(due_at.asc().nulls_first())
    pick = pick.limit(1)
    if session.get_bind().dialect.name == "postgresql":
        picked = await session.scalar(pick.with_for_update(skip_locked=True))
        return None if picked is None else SpotifyLink.discord_user_id == picked
    return SpotifyLink.discord_user_id.in_(pick)
