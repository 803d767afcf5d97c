"""Members linked without the OAuth round trip, for tests and benchmarks, and the OAuth
client that refreshes their sandbox tokens.

Each member gets a new sandbox user and a link row holding that user's encrypted sandbox
tokens, as a finished `/link` leaves it; all rows go in with one insert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import DEFAULT_REDIRECT_URI
from bot.db.engine import session_scope
from bot.db.models import SpotifyLink
from bot.db.vault import TokenVault
from bot.domain import LinkStatus
from bot.spotify.oauth import SpotifyOAuth
from sandbox.spotify import SpotifySandbox

SYNCED_FOR = timedelta(days=1)


def linked_member_rows(
    sandbox: SpotifySandbox,
    vault: TokenVault,
    discord_ids: Iterable[int],
    *,
    synced: bool = True,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """`spotify_links` rows, one new sandbox user per id. `synced` rows are not due for a
    background sync for a day; the others are due at once."""
    now = now or datetime.now(UTC)
    ids = list(discord_ids)
    rows: list[dict[str, Any]] = []
    for discord_id, user in zip(ids, sandbox.add_users(len(ids)), strict=True):
        tokens = sandbox.issue_tokens(user.id)
        rows.append(
            {
                "discord_user_id": discord_id,
                "spotify_account_id": user.account_id,
                "spotify_user_id": user.id,
                "display_name": user.display_name,
                "access_token_enc": vault.encrypt(tokens["access_token"]),
                "refresh_token_enc": vault.encrypt(tokens["refresh_token"]),
                "access_expires_at": now + timedelta(seconds=tokens["expires_in"]),
                "scopes": tokens["scope"],
                "authorized_at": now,
                "linked_at": now,
                "status": LinkStatus.ACTIVE,
                "synced_at": now if synced else None,
                "sync_due_at": now + SYNCED_FOR if synced else None,
            }
        )
    return rows


async def link_members(
    sessions: async_sessionmaker[AsyncSession],
    sandbox: SpotifySandbox,
    vault: TokenVault,
    discord_ids: Iterable[int],
    *,
    synced: bool = True,
) -> list[int]:
    """Link each id to a new sandbox user; returns the ids."""
    rows = linked_member_rows(sandbox, vault, discord_ids, synced=synced)
    async with session_scope(sessions) as session:
        await session.execute(insert(SpotifyLink), rows)
    return [int(row["discord_user_id"]) for row in rows]


def sandbox_oauth(
    sandbox: SpotifySandbox, http: aiohttp.ClientSession, redirect_uri: str = DEFAULT_REDIRECT_URI
) -> SpotifyOAuth:
    """Encore's OAuth client holding the sandbox's client credentials."""
    return SpotifyOAuth(
        http,
        client_id=sandbox.accounts.client_id,
        client_secret=sandbox.accounts.client_secret,
        redirect_uri=redirect_uri,
        accounts_url=sandbox.accounts_url,
    )
