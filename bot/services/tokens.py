"""Token providers the Spotify client calls: a fixed token set, and a member's stored tokens."""

from __future__ import annotations

import logging
from collections.abc import Hashable
from datetime import datetime
from typing import Protocol

from bot.db.engine import Session, Sessions, session_scope
from bot.db.models import SpotifyLink
from bot.db.vault import TokenUndecryptable, TokenVault
from bot.domain import LinkBroken, LinkStatus, NotLinked
from bot.spotify.client import expiring
from bot.spotify.errors import InvalidGrant
from bot.spotify.oauth import SpotifyOAuth, TokenSet
from bot.store.links import NewTokens, get_link, lock_link, replace_tokens

log = logging.getLogger(__name__)

REFRESH_ATTEMPTS = 3
"""Refresh tokens tried in one `refresh`: a refused one is retried with a newer one stored
meanwhile (a relink), a few times at most."""


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


class MarkLink(Protocol):
    async def __call__(
        self, discord_user_id: int, status: LinkStatus, *, if_refresh_enc: bytes | None = None
    ) -> None: ...


class MemberTokens:
    """A linked member's tokens, decrypted on demand and refreshed through OAuth.

    A refresh holds the member's link row locked (`lock_link`) from the re-read to the write,
    so one process at a time refreshes a member; a process that waited finds the tokens
    changed since it last read them and uses those instead of refreshing again (with
    refresh-token rotation a second refresh would be refused). The write is conditional on the
    row still holding the refresh token that was used, so a relink is never overwritten.

    A refresh that Spotify refuses with invalid_grant marks the link revoked, unless the stored
    refresh token changed meanwhile (then that one is tried); a token that no longer decrypts
    marks it broken. Either way the member is asked to /link again.
    """

    def __init__(
        self,
        discord_user_id: int,
        sessions: Sessions,
        vault: TokenVault,
        oauth: SpotifyOAuth,
        *,
        mark: MarkLink,
    ) -> None:
        self.key: Hashable = discord_user_id
        self._mark_link = mark
        self.scopes: frozenset[str] | None = None
        self._user_id = discord_user_id
        self._sessions = sessions
        self._vault = vault
        self._oauth = oauth
        self._seen: bytes | None = None
        """The access-token ciphertext `current_token` last handed out."""

    def _check(self, link: SpotifyLink | None) -> SpotifyLink:
        if link is None:
            raise NotLinked()
        if link.status != LinkStatus.ACTIVE:
            raise LinkBroken(link.status)
        self.scopes = frozenset(link.scopes.split())
        return link

    async def _load(self, session: Session) -> SpotifyLink:
        return self._check(await get_link(session, self._user_id, fresh=True))

    async def _mark(self, status: LinkStatus, refresh_enc: bytes | None = None) -> None:
        await self._mark_link(self._user_id, status, if_refresh_enc=refresh_enc)

    def _decrypt(self, blob: bytes) -> str:
        return self._vault.decrypt(blob)

    async def current_token(self) -> tuple[str, datetime]:
        async with self._sessions() as session:
            link = await self._load(session)
            blob, expires_at = link.access_token_enc, link.access_expires_at
        try:
            token = self._decrypt(blob)
        except TokenUndecryptable:
            await self._mark(LinkStatus.BROKEN)
            raise LinkBroken(LinkStatus.BROKEN) from None
        self._seen = blob
        return token, expires_at

    async def refresh(self) -> str:
        """A new access token: refreshed here, or the one another process stored since this
        provider's last `current_token` (then no second refresh is made)."""
        for _ in range(REFRESH_ATTEMPTS):
            refused = await self._refresh_locked()
            if isinstance(refused, str):
                return refused
            async with self._sessions() as session:
                if (await self._load(session)).refresh_token_enc != refused:
                    continue  # relinked or refreshed elsewhere meanwhile: try the new token
            await self._mark(LinkStatus.REVOKED, refused)
            break
        raise InvalidGrant("Spotify refused the stored refresh token")

    async def _refresh_locked(self) -> str | bytes:
        """Under the link's row lock: the access token another process stored since we last
        read, else a refreshed one (stored); after invalid_grant, the refused refresh token's
        ciphertext (the link is marked after the lock is released)."""
        async with session_scope(self._sessions) as session:
            link = self._check(await lock_link(session, self._user_id))
            changed = (
                self._seen is not None
                and link.access_token_enc != self._seen
                and not expiring(link.access_expires_at)
            )
            blob = link.access_token_enc if changed else link.refresh_token_enc
            try:
                plain = self._decrypt(blob)
            except TokenUndecryptable:
                pass
            else:
                if changed:
                    self._seen = blob
                    return plain
                try:
                    tokens = await self._oauth.refresh(plain)
                except InvalidGrant:
                    return blob
                new = NewTokens(
                    access_token_enc=self._vault.encrypt(tokens.access_token),
                    refresh_token_enc=self._vault.encrypt(tokens.refresh_token),
                    access_expires_at=tokens.expires_at,
                    scopes=" ".join(tokens.scopes) if tokens.scopes else link.scopes,
                )
                if not await replace_tokens(session, self._user_id, blob, new):
                    raise LinkBroken(LinkStatus.BROKEN)  # pragma: no cover - the row is locked
                self._seen = new.access_token_enc
                return tokens.access_token
        await self._mark(LinkStatus.BROKEN)
        raise LinkBroken(LinkStatus.BROKEN)
