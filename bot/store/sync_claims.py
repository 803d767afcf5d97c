"""Claims of the background sync on members' links (see bot/services/sync.py for the scheme).

A claim moves a link's `sync_due_at` forward by a lease; the lease value is the claim's
fencing token, compared by every later write of the claim.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import SpotifyLink
from bot.domain import LinkStatus
from bot.store.link_claims import most_overdue


def _is_due(now: datetime) -> ColumnElement[bool]:
    return and_(
        SpotifyLink.status == LinkStatus.ACTIVE,
        or_(SpotifyLink.sync_due_at.is_(None), SpotifyLink.sync_due_at <= now),
    )


async def _lease(
    session: AsyncSession, target: ColumnElement[bool], now: datetime, lease_until: datetime
) -> int | None:
    claimed: int | None = await session.scalar(
        update(SpotifyLink)
        .where(target, _is_due(now))
        .values(sync_due_at=lease_until)
        .returning(SpotifyLink.discord_user_id)
        .execution_options(synchronize_session=False)
    )
    return claimed


async def claim_member(
    session: AsyncSession, discord_user_id: int, now: datetime, lease_until: datetime
) -> int | None:
    """Lease this member's link until `lease_until` if it is ACTIVE and due; None if not."""
    return await _lease(session, SpotifyLink.discord_user_id == discord_user_id, now, lease_until)


async def claim_most_overdue(
    session: AsyncSession, now: datetime, lease_until: datetime
) -> int | None:
    """Lease the most overdue ACTIVE link until `lease_until`; None when none is due (see
    `link_claims.most_overdue`)."""
    target = await most_overdue(session, _is_due(now), SpotifyLink.sync_due_at)
    if target is None:
        return None
    return await _lease(session, target, now, lease_until)


async def update_claimed(
    session: AsyncSession, discord_user_id: int, lease_until: datetime, **values: datetime
) -> bool:
    """Update the claimed link while the claim (`lease_until`) still holds; False when another
    claim took it over or the link is no longer ACTIVE.

    As the first statement of its transaction it also locks the row (PostgreSQL) or the
    database (SQLite) until commit, so nobody can take the member over before the end.
    """
    updated = await session.scalar(
        update(SpotifyLink)
        .where(
            SpotifyLink.discord_user_id == discord_user_id,
            SpotifyLink.sync_due_at == lease_until,
            SpotifyLink.status == LinkStatus.ACTIVE,
        )
        .values(**values)
        .returning(SpotifyLink.discord_user_id)
        .execution_options(synchronize_session=False)
    )
    return updated is not None


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next ACTIVE link is due (None without ACTIVE links)."""
    due: datetime | None = await session.scalar(
        select(func.min(SpotifyLink.sync_due_at)).where(SpotifyLink.status == LinkStatus.ACTIVE)
    )
    return due
