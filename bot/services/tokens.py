"""Token providers the Spotify client calls: a fixed token set, and a member's stored tokens."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import SpotifyLink
from bot.db.vault import TokenUndecryptable, TokenVault
from bot.domain import LinkBroken, LinkStatus, NotLinked
from bot.spotify.errors import InvalidGrant
from bot.spotify.oauth import SpotifyOAuth, TokenSet

log = logging.getLogger(__name__)


class StaticTokens:
    """Tokens just received from the token endpoint, before anything is stored."""

    def __init__(self, tokens: TokenSet) -> None:
        self._tokens = tokens
        self.key: Hashable = ("static", id(self))
        self.scopes: frozenset[str] | None = frozenset(tokens.scopes)

    async def current_token(self) -> tuple[str, datetime]:
        return self._tokens.access_token, self._tokens.expires_at

    async def refresh(self) -> str:
        raise InvalidGrant("fresh tokens cannot be refreshed")


class MemberTokens:
    """A linked member's tokens, decrypted on demand and refreshed through OAuth.

    A refresh that Spotify refuses with invalid_grant marks the link revoked; a token
    that no longer decrypts marks it broken. Either way the member is asked to /link again.
    """

    def __init__(
        self,
        discord_user_id: int,
        sessions: async_sessionmaker[AsyncSession],
        vault: TokenVault,
        oauth: SpotifyOAuth,
        *,
        mark: Callable[[int, LinkStatus], Awaitable[None]],
    ) -> None:
        self.key: Hashable = discord_user_id
        self._mark_link = mark
        self.scopes: frozenset[str] | None = None
        self._user_id = discord_user_id
        self._sessions = sessions
        self._vault = vault
        self._oauth = oauth

    async def _load(self, session: AsyncSession) -> SpotifyLink:
        link = await session.get(SpotifyLink, self._user_id, populate_existing=True)
        if link is None:
            raise NotLinked()
        if link.status != LinkStatus.ACTIVE:
            raise LinkBroken(link.status)
        self.scopes = frozenset(link.scopes.split())
        return link

    async def _mark(self, status: LinkStatus) -> None:
        await self._mark_link(self._user_id, status)

    def _decrypt(self, blob: bytes) -> str:
        return self._vault.decrypt(blob)

    async def current_token(self) -> tuple[str, datetime]:
        async with self._sessions() as session:
            link = await self._load(session)
            blob, expires_at = link.access_token_enc, link.access_expires_at
        try:
            return self._decrypt(blob), expires_at
        except TokenUndecryptable:
            await self._mark(LinkStatus.BROKEN)
            raise LinkBroken(LinkStatus.BROKEN) from None

    async def refresh(self) -> str:
        async with self._sessions() as session:
            link = await self._load(session)
            blob = link.refresh_token_enc
        try:
            refresh_token = self._decrypt(blob)
        except TokenUndecryptable:
            await self._mark(LinkStatus.BROKEN)
            raise LinkBroken(LinkStatus.BROKEN) from None
        try:
            tokens = await self._oauth.refresh(refresh_token)
        except InvalidGrant:
            await self._mark(LinkStatus.REVOKED)
            raise
        async with session_scope(self._sessions) as session:
            link = await self._load(session)
            link.access_token_enc = self._vault.encrypt(tokens.access_token)
            link.refresh_token_enc = self._vault.encrypt(tokens.refresh_token)
            link.access_expires_at = tokens.expires_at
            if tokens.scopes:
                link.scopes = " ".join(tokens.scopes)
        return tokens.access_token
