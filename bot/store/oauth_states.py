"""Pending OAuth states of /link, stored by the hash of the state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
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
    member_name: str | None = None,
    guild_name: str | None = None,
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
            member_name=member_name[:100] if member_name else None,
            guild_name=guild_name[:100] if guild_name else None,
        )
    )
    await session.flush()


async def get_state(session: AsyncSession, state_hash: str) -> OAuthState | None:
    return await session.get(OAuthState, state_hash, populate_existing=True)


async def bind_browser(session: AsyncSession, state_hash: str, browser_hash: str) -> bool:
    """Bind a pending state to a browser unless one is bound already (whoever comes first
    wins, also between concurrent requests); True when this call bound it."""
    result = await session.execute(
        update(OAuthState)
        .where(OAuthState.state_hash == state_hash, OAuthState.browser_hash.is_(None))
        .values(browser_hash=browser_hash)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def take_state(
    session: AsyncSession, state_hash: str, *, browser_hash: str | None = None
) -> OAuthState | None:
    """Delete the pending state and return what it held, in one statement (`DELETE …
    RETURNING`), so of concurrent callers exactly one gets it. With `browser_hash`, only a
    state bound to that browser is taken."""
    statement = delete(OAuthState).where(OAuthState.state_hash == state_hash)
    if browser_hash is not None:
        statement = statement.where(OAuthState.browser_hash == browser_hash)
    result = await session.execute(
        statement.returning(OAuthState).execution_options(synchronize_session=False)
    )
    return result.scalars().one_or_none()
