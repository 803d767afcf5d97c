"""The OAuth link flow: pending states, the callback's code exchange, and storing the link.

`state` is random, bound to the member, stored only as a hash, single-use (deleted before
the code is exchanged) and expires after ten minutes. The PKCE verifier and the /link
interaction token (so the callback can edit the member's /link reply) are kept encrypted
beside it.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from bot.db.engine import Sessions, session_scope
from bot.db.vault import TokenUndecryptable, TokenVault
from bot.services.linked_members import LinkedMembers
from bot.services.tokens import StaticTokens
from bot.spotify.client import SpotifyClient
from bot.spotify.errors import InvalidClient, InvalidGrant, NotAllowListed, SpotifyError
from bot.spotify.models import PrivateUser
from bot.spotify.oauth import SpotifyOAuth, TokenSet, new_pkce, new_state
from bot.store.links import NewTokens, get_link, holder_of_account, put_link
from bot.store.member_data import remove_member_data
from bot.store.oauth_states import get_state, replace_state, take_state

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
MAX_PARAM_LENGTH = 2048


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class LinkFailure(enum.Enum):
    """Why a callback did not produce a link; each has its own page."""

    MISSING_PARAMETERS = "missing"
    UNKNOWN_STATE = "unknown"
    EXPIRED_STATE = "expired"
    ACCESS_DENIED = "denied"
    CODE_REFUSED = "code_refused"
    NOT_ALLOW_LISTED = "not_allow_listed"
    ACCOUNT_UNREADABLE = "account_unreadable"
    MISCONFIGURED = "misconfigured"


class LinkError(Exception):
    def __init__(self, failure: LinkFailure, pending: PendingLink | None = None) -> None:
        super().__init__(failure.value)
        self.failure = failure
        self.pending = pending


@dataclass(frozen=True)
class PendingLink:
    """What a consumed state tells about the /link that created it."""

    discord_user_id: int
    guild_id: int | None
    application_id: int | None
    interaction_token: str | None


@dataclass(frozen=True)
class LinkResult:
    pending: PendingLink
    display_name: str
    spotify_user_id: str
    moved_from: int | None


class LinkingService:
    def __init__(
        self,
        sessions: Sessions,
        vault: TokenVault,
        oauth: SpotifyOAuth,
        spotify: SpotifyClient,
        *,
        start_url: str,
        clock: Callable[[], datetime] = utcnow,
        linked: LinkedMembers | None = None,
    ) -> None:
        self._start_url = start_url
        self._linked = linked if linked is not None else LinkedMembers(sessions)
        self._sessions = sessions
        self._vault = vault
        self._oauth = oauth
        self._spotify = spotify
        self._clock = clock

    async def start(
        self,
        discord_user_id: int,
        *,
        guild_id: int | None,
        application_id: int | None,
        interaction_token: str | None,
    ) -> str:
        """Create a pending state and return the bot's own short link that starts it.

        Spotify's authorize URL is longer than a Discord link button allows, so the
        button points at the web server, which redirects to Spotify (see `authorize_url`).
        """
        state, pkce, now = new_state(), new_pkce(), self._clock()
        async with session_scope(self._sessions) as session:
            await replace_state(
                session,
                state_hash=hash_state(state),
                discord_user_id=discord_user_id,
                guild_id=guild_id,
                application_id=application_id,
                code_verifier_enc=self._vault.encrypt(pkce.verifier),
                interaction_token_enc=(
                    self._vault.encrypt(interaction_token) if interaction_token else None
                ),
                created_at=now,
                expires_at=now + STATE_LIFETIME,
            )
        return f"{self._start_url}?{urlencode({'state': state})}"

    async def authorize_url(self, state: str | None) -> str:
        """Spotify's authorize URL for a pending, unexpired state (the state is not consumed)."""
        if not state or len(state) > MAX_PARAM_LENGTH:
            raise LinkError(LinkFailure.MISSING_PARAMETERS)
        async with self._sessions() as session:
            row = await get_state(session, hash_state(state))
        if row is None:
            raise LinkError(LinkFailure.UNKNOWN_STATE)
        if row.expires_at <= self._clock():
            raise LinkError(LinkFailure.EXPIRED_STATE)
        try:
            verifier = self._vault.decrypt(row.code_verifier_enc)
        except TokenUndecryptable:
            raise LinkError(LinkFailure.UNKNOWN_STATE) from None
        return self._oauth.authorize_url(state, pkce_challenge(verifier))

    async def _consume(self, state: str) -> tuple[PendingLink, str]:
        """Delete the state (single use) and return what it held, with the PKCE verifier."""
        async with session_scope(self._sessions) as session:
            row = await take_state(session, hash_state(state))
            if row is None:
                raise LinkError(LinkFailure.UNKNOWN_STATE)
        try:
            verifier = self._vault.decrypt(row.code_verifier_enc)
            token = (
                self._vault.decrypt(row.interaction_token_enc)
                if row.interaction_token_enc
                else None
            )
        except TokenUndecryptable:
            raise LinkError(LinkFailure.UNKNOWN_STATE) from None
        pending = PendingLink(row.discord_user_id, row.guild_id, row.application_id, token)
        if row.expires_at <= self._clock():
            raise LinkError(LinkFailure.EXPIRED_STATE, pending)
        return pending, verifier

    async def complete(
        self, *, state: str | None, code: str | None, error: str | None
    ) -> LinkResult:
        """Handle the callback's query parameters; raises LinkError with the reason."""
        if not state or len(state) > MAX_PARAM_LENGTH:
            raise LinkError(LinkFailure.MISSING_PARAMETERS)
        if error is None and (not code or len(code) > MAX_PARAM_LENGTH):
            raise LinkError(LinkFailure.MISSING_PARAMETERS)
        pending, verifier = await self._consume(state)
        if error is not None:
            raise LinkError(LinkFailure.ACCESS_DENIED, pending)
        assert code is not None
        try:
            tokens = await self._oauth.exchange_code(code, verifier)
        except InvalidGrant:
            raise LinkError(LinkFailure.CODE_REFUSED, pending) from None
        except InvalidClient:
            log.error("Spotify refused the client credentials: check SPOTIFY_CLIENT_ID/SECRET")
            raise LinkError(LinkFailure.MISCONFIGURED, pending) from None
        except SpotifyError as exc:
            log.warning("token exchange failed: %s", type(exc).__name__)
            raise LinkError(LinkFailure.CODE_REFUSED, pending) from None
        try:
            me = await self._spotify.user(StaticTokens(tokens), interactive=True).me()
        except NotAllowListed:
            raise LinkError(LinkFailure.NOT_ALLOW_LISTED, pending) from None
        except SpotifyError as exc:
            log.warning("reading the new account failed: %s", type(exc).__name__)
            raise LinkError(LinkFailure.ACCOUNT_UNREADABLE, pending) from None
        moved_from = await self._store(pending.discord_user_id, me.link_id, me, tokens)
        return LinkResult(pending, me.display_name or me.id, me.id, moved_from)

    async def _store(
        self, discord_user_id: int, account_id: str, me: PrivateUser, tokens: TokenSet
    ) -> int | None:
        now = self._clock()
        async with session_scope(self._sessions, shared_writes=True) as session:
            other = await holder_of_account(session, account_id, other_than=discord_user_id)
            if other is not None:
                self._linked.mark(other, False)
                await remove_member_data(session, other)
            link = await get_link(session, discord_user_id)
            if link is not None and link.spotify_account_id != account_id:
                await remove_member_data(session, discord_user_id, keep_memberships=True)
            await put_link(
                session,
                discord_user_id,
                spotify_account_id=account_id,
                spotify_user_id=me.id,
                display_name=me.display_name,
                avatar_url=me.image_url,
                tokens=NewTokens(
                    access_token_enc=self._vault.encrypt(tokens.access_token),
                    refresh_token_enc=self._vault.encrypt(tokens.refresh_token),
                    access_expires_at=tokens.expires_at,
                    scopes=" ".join(tokens.scopes),
                ),
                now=now,
            )
        self._linked.mark(discord_user_id, True)
        return other
