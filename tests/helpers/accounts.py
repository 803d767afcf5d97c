"""Linked members against the Spotify sandbox: the account services over a real database.

- `Clock`: a settable clock for services that take one.
- `Accounts`: the sandbox, a vault, Encore's OAuth and API clients and an `AccountService`,
  with `link()` writing a member's link to a sandbox user straight to the database.
- `accounts` fixture: one of those on `db_sessions`; `http`: an aiohttp session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import SpotifyLink
from bot.db.vault import TokenVault
from bot.domain import LinkStatus
from bot.services.accounts import AccountService
from bot.spotify.client import SpotifyClient
from bot.spotify.oauth import SCOPES, SpotifyOAuth
from sandbox.population import sandbox_oauth
from sandbox.spotify import SpotifySandbox


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Accounts:
    sandbox: SpotifySandbox
    sessions: async_sessionmaker[AsyncSession]
    client: SpotifyClient
    accounts: AccountService
    vault: TokenVault
    clock: Clock
    oauth: SpotifyOAuth

    async def link(
        self,
        member_id: int,
        user_id: str,
        *,
        due: datetime | None = None,
        status: LinkStatus = LinkStatus.ACTIVE,
        scopes: Collection[str] = SCOPES,
    ) -> None:
        tokens = self.sandbox.issue_tokens(user_id, scopes)
        user = self.sandbox.users[user_id]
        async with session_scope(self.sessions) as session:
            session.add(
                SpotifyLink(
                    discord_user_id=member_id,
                    spotify_account_id=user.account_id,
                    spotify_user_id=user.id,
                    display_name=user.display_name,
                    access_token_enc=self.vault.encrypt(tokens["access_token"]),
                    refresh_token_enc=self.vault.encrypt(tokens["refresh_token"]),
                    access_expires_at=datetime.now(UTC) + timedelta(seconds=tokens["expires_in"]),
                    scopes=" ".join(scopes),
                    authorized_at=self.clock.now,
                    linked_at=self.clock.now,
                    status=status,
                    sync_due_at=due,
                )
            )

    async def link_row(self, member_id: int) -> SpotifyLink:
        async with self.sessions() as session:
            link = await session.get(SpotifyLink, member_id)
        assert link is not None
        return link


def build_accounts(
    sandbox: SpotifySandbox, sessions: async_sessionmaker[AsyncSession], http: aiohttp.ClientSession
) -> Accounts:
    vault = TokenVault([Fernet.generate_key().decode()])
    oauth = sandbox_oauth(sandbox, http)
    client = SpotifyClient(http, api_url=sandbox.api_url, backoff_base=0.01)
    accounts = AccountService(sessions, vault, oauth, client)
    return Accounts(sandbox, sessions, client, accounts, vault, Clock(), oauth)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def accounts(
    spotify_sandbox: SpotifySandbox,
    db_sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
) -> Accounts:
    return build_accounts(spotify_sandbox, db_sessions, http)
