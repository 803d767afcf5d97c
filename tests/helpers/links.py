"""Link rows written straight to the database, for the store and service tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import SpotifyLink
from bot.domain import LinkStatus
from tests.helpers.community import NOW


def link_row(
    user: int,
    status: LinkStatus = LinkStatus.ACTIVE,
    *,
    account: str | None = None,
    linked_at: datetime = NOW,
    synced_at: datetime | None = None,
    sync_due_at: datetime | None = None,
    scopes: str = "user-top-read",
    recent_due_at: datetime | None = None,
) -> SpotifyLink:
    return SpotifyLink(
        discord_user_id=user,
        spotify_account_id=account or f"account{user}",
        spotify_user_id=f"user{user}",
        access_token_enc=b"access",
        refresh_token_enc=b"refresh",
        access_expires_at=NOW,
        scopes=scopes,
        authorized_at=linked_at,
        linked_at=linked_at,
        status=status,
        synced_at=synced_at,
        sync_due_at=sync_due_at,
        recent_due_at=recent_due_at,
    )


async def add_links(sessions: async_sessionmaker[AsyncSession], *links: SpotifyLink) -> None:
    async with session_scope(sessions) as session:
        session.add_all(links)


async def read_link(sessions: async_sessionmaker[AsyncSession], user: int) -> SpotifyLink | None:
    async with sessions() as session:
        return await session.get(SpotifyLink, user)
