"""Pending /import links: one per member, stored by the hash of their token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ImportLink


async def replace_link(
    session: AsyncSession,
    *,
    token_hash: str,
    discord_user_id: int,
    member_name: str,
    guild_id: int | None,
    interaction_token_enc: bytes | None,
    application_id: int | None,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """Store the member's new link; their earlier one and every expired link go."""
    await session.execute(
        delete(ImportLink).where(
            or_(ImportLink.expires_at < created_at, ImportLink.discord_user_id == discord_user_id)
        )
    )
    session.add(
        ImportLink(
            token_hash=token_hash,
            discord_user_id=discord_user_id,
            member_name=member_name,
            guild_id=guild_id,
            interaction_token_enc=interaction_token_enc,
            application_id=application_id,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


async def get_link(session: AsyncSession, token_hash: str) -> ImportLink | None:
    return await session.get(ImportLink, token_hash)


async def mark_link_used(session: AsyncSession, token_hash: str, at: datetime) -> None:
    await session.execute(
        update(ImportLink).where(ImportLink.token_hash == token_hash).values(used_at=at)
    )
