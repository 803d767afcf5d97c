"""Recently-played claims: who is pollable, the lease as a fencing token, the next due time and
the one-time invitation to /link again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.domain import LinkStatus
from bot.spotify.scopes import SCOPES
from bot.store.recent_polls import (
    PollClaim,
    claim_most_overdue_poll,
    needs_relink,
    next_poll_due,
    take_relink_notice,
    update_poll_claimed,
)
from tests.helpers.community import NOW
from tests.helpers.links import add_links, link_row, read_link

Sessions = async_sessionmaker[AsyncSession]
LEASE = NOW + timedelta(minutes=10)
HOUR = timedelta(hours=1)
ALL = " ".join(SCOPES)


async def claim_next(sessions: Sessions) -> PollClaim | None:
    async with session_scope(sessions) as session:
        return await claim_most_overdue_poll(session, NOW, LEASE)


async def test_only_active_links_with_the_scope_are_claimed_most_overdue_first(
    db_sessions: Sessions,
) -> None:
    await add_links(
        db_sessions,
        link_row(1, scopes=ALL, recent_due_at=NOW - HOUR),
        link_row(2, scopes=ALL, recent_due_at=NOW - 2 * HOUR),
        link_row(3, scopes=ALL),
        link_row(4, scopes=ALL, recent_due_at=NOW + HOUR),
        link_row(5, LinkStatus.REVOKED, scopes=ALL),
        link_row(6),  # linked before the listening scopes
    )
    claims = [await claim_next(db_sessions) for _ in range(4)]
    assert [claim and claim.discord_user_id for claim in claims] == [3, 2, 1, None]
    claimed = await read_link(db_sessions, 3)
    assert claimed is not None and claimed.recent_due_at == LEASE


async def test_the_lease_fences_later_writes(db_sessions: Sessions) -> None:
    await add_links(db_sessions, link_row(1, scopes=ALL))
    claim = await claim_next(db_sessions)
    assert claim is not None and claim.after_ms is None and claim.polled_at is None

    async with session_scope(db_sessions) as session:
        assert await update_poll_claimed(
            session, 1, LEASE, due_at=NOW + HOUR, after_ms=1234, polled_at=NOW
        )
    async with session_scope(db_sessions) as session:
        assert not await update_poll_claimed(session, 1, LEASE, due_at=NOW, after_ms=99)

    link = await read_link(db_sessions, 1)
    assert link is not None
    assert (link.recent_due_at, link.recent_after_ms, link.recent_polled_at) == (
        NOW + HOUR,
        1234,
        NOW,
    )


async def test_next_due_is_now_for_a_link_never_polled(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        assert await next_poll_due(session, NOW) is None
    await add_links(db_sessions, link_row(1, scopes=ALL, recent_due_at=NOW + HOUR), link_row(2))
    async with db_sessions() as session:
        assert await next_poll_due(session, NOW) == NOW + HOUR
    await add_links(db_sessions, link_row(3, scopes=ALL))
    async with db_sessions() as session:
        assert await next_poll_due(session, NOW) == NOW


async def test_a_member_linked_before_the_scope_is_invited_once(db_sessions: Sessions) -> None:
    await add_links(db_sessions, link_row(1), link_row(2, scopes=ALL))
    async with session_scope(db_sessions) as session:
        assert await needs_relink(session, 1) and not await needs_relink(session, 2)
        assert not await needs_relink(session, 3)
        assert [await take_relink_notice(session, n, NOW) for n in (1, 1, 2, 3)] == [
            True,
            False,
            False,
            False,
        ]
