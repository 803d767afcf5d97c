"""Pending OAuth states of /link, stored by the hash of the state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OAuthState


async def replace_state(
    session: AsyncSession,
    *,
    state_hash: str,
    discord_user_id: int,
    guild_id: int | None,
    application_id: int | None,
    code_verifier_enc: bytes,
    interaction_token_enc: bytes | None,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    """Store a member's new pending state; their older ones and every expired one go."""
    await session.execute(delete(OAuthState).where(OAuthState.expires_at < created_at))
    await session.execute(delete(OAuthState).where(OAuthState.discord_user_id == discord_user_id))
    session.add(
        OAuthState(
            state_hash=state_hash,
            discord_user_id=discord_user_id,
            guild_id=guild_id,
            code_verifier_enc=code_verifier_enc,
            interaction_token_enc=interaction_token_enc,
            application_id=application_id,
            created_at=created_at,
            expires_at=expires_at,
        )
    )
    await session.flush()


async def get_state(session: AsyncSession, state_hash: str) -> OAuthState | None:
    return await session.get(OAuthState, state_hash)


async def take_state(session: AsyncSession, state_hash: str) -> OAuthState | None:
    """Delete the pending state and return what it held (a state is used once)."""
    row = await session.get(OAuthState, state_hash)
    if row is not None:
        await session.delete(row)
        await session.flush()
    return row
