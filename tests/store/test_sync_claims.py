"""Sync claims: which link is picked, the lease as a fencing token, and the next due time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.domain import LinkStatus
from bot.store.sync_claims import claim_member, claim_most_overdue, next_due, update_claimed
from tests.helpers.community import NOW
from tests.helpers.links import add_links, link_row, read_link

Sessions = async_sessionmaker[AsyncSession]
LEASE = NOW + timedelta(minutes=10)
HOUR = timedelta(hours=1)


async def claim_next(sessions: Sessions) -> int | None:
    async with session_scope(sessions) as session:
        return await claim_most_overdue(session, NOW, LEASE)


async def test_never_synced_links_come_first_then_the_most_overdue(db_sessions: Sessions) -> None:
    await add_links(
        db_sessions,
        link_row(1, sync_due_at=NOW - HOUR),
        link_row(2, sync_due_at=NOW - 2 * HOUR),
        link_row(3),
        link_row(4, sync_due_at=NOW + HOUR),
        link_row(5, LinkStatus.REVOKED),
    )
    assert [await claim_next(db_sessions) for _ in range(4)] == [3, 2, 1, None]
    claimed = await read_link(db_sessions, 3)
    assert claimed is not None and claimed.sync_due_at == LEASE


async def test_a_member_is_claimed_only_when_active_and_due(db_sessions: Sessions) -> None:
    await add_links(
        db_sessions,
        link_row(1, sync_due_at=NOW),
        link_row(2, sync_due_at=NOW + HOUR),
        link_row(3, LinkStatus.BROKEN),
    )
    async with session_scope(db_sessions) as session:
        assert await claim_member(session, 1, NOW, LEASE) == 1
        assert await claim_member(session, 1, NOW, LEASE) is None
        assert await claim_member(session, 2, NOW, LEASE) is None
        assert await claim_member(session, 3, NOW, LEASE) is None
        assert await claim_member(session, 4, NOW, LEASE) is None


async def test_only_the_current_claim_may_write(db_sessions: Sessions) -> None:
    await add_links(db_sessions, link_row(1, sync_due_at=NOW))
    assert await claim_next(db_sessions) == 1
    async with session_scope(db_sessions) as session:
        assert not await update_claimed(session, 1, NOW, synced_at=NOW)
        assert await update_claimed(session, 1, LEASE, synced_at=NOW, sync_due_at=NOW + HOUR)
        assert not await update_claimed(session, 1, LEASE, synced_at=NOW)
    link = await read_link(db_sessions, 1)
    assert link is not None and (link.synced_at, link.sync_due_at) == (NOW, NOW + HOUR)


async def test_a_claim_ends_when_the_link_stops_being_active(db_sessions: Sessions) -> None:
    await add_links(db_sessions, link_row(1, LinkStatus.REVOKED, sync_due_at=LEASE))
    async with session_scope(db_sessions) as session:
        assert not await update_claimed(session, 1, LEASE, synced_at=NOW)


async def test_next_due_is_the_earliest_active_due_time(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        assert await next_due(session) is None
    await add_links(
        db_sessions,
        link_row(1, sync_due_at=NOW + HOUR),
        link_row(2, sync_due_at=NOW + 2 * HOUR),
        link_row(3, LinkStatus.REVOKED, sync_due_at=NOW - HOUR),
    )
    async with db_sessions() as session:
        assert await next_due(session) == NOW + HOUR
