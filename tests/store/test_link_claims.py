"""The most overdue link a background loop may claim: never-due first, then the oldest due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db.engine import Sessions
from bot.db.models import SpotifyLink
from bot.store.link_claims import most_overdue
from tests.helpers.community import NOW
from tests.helpers.links import add_links, link_row

HOUR = timedelta(hours=1)


async def picked(sessions: Sessions) -> list[int]:
    due = SpotifyLink.recent_due_at.is_(None) | (SpotifyLink.recent_due_at <= NOW)
    async with sessions() as session:
        target = await most_overdue(session, due, SpotifyLink.recent_due_at)
        if target is None:
            return []
        return list(await session.scalars(select(SpotifyLink.discord_user_id).where(target)))


async def test_the_never_due_link_comes_first_then_the_most_overdue(
    each_db_sessions: Sessions,
) -> None:
    await add_links(
        each_db_sessions,
        link_row(1, recent_due_at=NOW - HOUR),
        link_row(2, recent_due_at=NOW - 2 * HOUR),
        link_row(3, recent_due_at=NOW + HOUR),
    )
    assert await picked(each_db_sessions) == [2]
    await add_links(each_db_sessions, link_row(4))
    assert await picked(each_db_sessions) == [4]


async def test_nothing_due_picks_nothing(each_db_sessions: Sessions) -> None:
    await add_links(each_db_sessions, link_row(1, recent_due_at=NOW + HOUR))
    assert await picked(each_db_sessions) == []
