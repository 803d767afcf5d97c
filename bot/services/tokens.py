"""Token providers the Spotify client calls: a fixed token set, and a member's stored tokens."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime

from bot.db.engine import Session, Sessions, session_scope
from bot.db.models import SpotifyLink
from bot.db.vault import TokenUndecryptable, TokenVault
from bot.domain import LinkBroken, LinkStatus, NotLinked
from bot.spotify.errors import InvalidGrant
from bot.spotify.oauth import SpotifyOAuth, TokenSet
from bot.store.links import NewTokens, get_link, update_tokens

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
        sessions: Sessions,
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

    async def _load(self, session: Session) -> SpotifyLink:
        link = await get_link(session, self._user_id, fresh=True)
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
            await update_tokens(
                session,
                self._user_id,
                NewTokens(
                    access_token_enc=self._vault.encrypt(tokens.access_token),
                    refresh_token_enc=self._vault.encrypt(tokens.refresh_token),
                    access_expires_at=tokens.expires_at,
                    scopes=" ".join(tokens.scopes) if tokens.scopes else link.scopes,
                ),
            )
        return tokens.access_token
