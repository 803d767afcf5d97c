"""Claims and cursors of the recently-played polling on members' links.

The same scheme as the background sync's claims (bot/store/sync_claims.py, explained in
bot/services/sync.py), on its own columns: a claim moves `recent_due_at` forward by a lease,
and the lease value is the fencing token every later write of the claim compares. Only ACTIVE
links that granted `user-read-recently-played` are polled; members linked before that scope
existed are skipped, and `needs_relink` tells the commands to invite them to /link again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import SpotifyLink
from bot.domain import LinkStatus
from bot.spotify.scopes import has_listening_scopes
from bot.store.link_claims import most_overdue

RECENT_SCOPE = "user-read-recently-played"


@dataclass
class PollClaim:
    discord_user_id: int
    after_ms: int | None
    polled_at: datetime | None
    lease_until: datetime


def _pollable() -> ColumnElement[bool]:
    return and_(SpotifyLink.status == LinkStatus.ACTIVE, SpotifyLink.scopes.contains(RECENT_SCOPE))


def _is_due(now: datetime) -> ColumnElement[bool]:
    return and_(
        _pollable(),
        or_(SpotifyLink.recent_due_at.is_(None), SpotifyLink.recent_due_at <= now),
    )


async def claim_most_overdue_poll(
    session: AsyncSession, now: datetime, lease_until: datetime
) -> PollClaim | None:
    """Lease the most overdue pollable link until `lease_until`; None when none is due (see
    `link_claims.most_overdue`)."""
    target = await most_overdue(session, _is_due(now), SpotifyLink.recent_due_at)
    if target is None:
        return None
    row = (
        await session.execute(
            update(SpotifyLink)
            .where(target, _is_due(now))
            .values(recent_due_at=lease_until)
            .returning(
                SpotifyLink.discord_user_id,
                SpotifyLink.recent_after_ms,
                SpotifyLink.recent_polled_at,
            )
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is None:
        return None
    user_id, after_ms, polled_at = row
    return PollClaim(user_id, after_ms, polled_at, lease_until)


async def update_poll_claimed(
    session: AsyncSession,
    discord_user_id: int,
    lease_until: datetime,
    *,
    due_at: datetime,
    after_ms: int | None = None,
    polled_at: datetime | None = None,
) -> bool:
    """Set the member's next due time (and cursor and poll time when given) while the claim
    still holds; False when another claim took it over or the link is no longer pollable.
    The first statement of its transaction, so it also holds the row (or SQLite's database)
    until commit."""
    values: dict[str, object] = {"recent_due_at": due_at}
    if after_ms is not None:
        values["recent_after_ms"] = after_ms
    if polled_at is not None:
        values["recent_polled_at"] = polled_at
    updated = await session.scalar(
        update(SpotifyLink)
        .where(
            SpotifyLink.discord_user_id == discord_user_id,
            SpotifyLink.recent_due_at == lease_until,
            _pollable(),
        )
        .values(**values)
        .returning(SpotifyLink.discord_user_id)
        .execution_options(synchronize_session=False)
    )
    return updated is not None


async def next_poll_due(session: AsyncSession, now: datetime) -> datetime | None:
    """When the next pollable link is due (`now` for one never polled); None without any."""
    never = await session.scalar(
        select(SpotifyLink.discord_user_id)
        .where(_pollable(), SpotifyLink.recent_due_at.is_(None))
        .limit(1)
    )
    if never is not None:
        return now
    due: datetime | None = await session.scalar(
        select(func.min(SpotifyLink.recent_due_at)).where(_pollable())
    )
    return due


async def needs_relink(session: AsyncSession, discord_user_id: int) -> bool:
    """Whether the member's active link predates the listening scopes (asked to /link again)."""
    link = await session.get(SpotifyLink, discord_user_id)
    return (
        link is not None
        and link.status == LinkStatus.ACTIVE
        and not has_listening_scopes(link.scopes)
    )


async def take_relink_notice(session: AsyncSession, discord_user_id: int, now: datetime) -> bool:
    """True once per link for a member whose link predates the listening scopes: the first
    history command they use says so, later ones do not."""
    link = await session.get(SpotifyLink, discord_user_id)
    if (
        link is None
        or link.status != LinkStatus.ACTIVE
        or has_listening_scopes(link.scopes)
        or link.relink_noticed_at is not None
    ):
        return False
    taken = await session.scalar(
        update(SpotifyLink)
        .where(
            SpotifyLink.discord_user_id == discord_user_id,
            SpotifyLink.relink_noticed_at.is_(None),
        )
        .values(relink_noticed_at=now)
        .returning(SpotifyLink.discord_user_id)
        .execution_options(synchronize_session=False)
    )
    return taken is not None
