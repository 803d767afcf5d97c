"""Marking a link unusable (revoked, broken, not allow-listed), with the guild scores following."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import SpotifyLink
from bot.domain import LinkStatus
from bot.store.scores import sync_members

log = logging.getLogger(__name__)


async def mark_link(
    sessions: async_sessionmaker[AsyncSession], discord_user_id: int, status: LinkStatus
) -> None:
    """Set an active link's status; its lists stop counting in every guild at once."""
    async with session_scope(sessions, shared_writes=True) as session:
        await session.execute(
            update(SpotifyLink)
            .where(
                SpotifyLink.discord_user_id == discord_user_id,
                SpotifyLink.status == LinkStatus.ACTIVE,
            )
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        await sync_members(session, [discord_user_id])
    log.warning("link of member %s marked %s", discord_user_id, status.value)
