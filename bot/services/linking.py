"""The OAuth link flow: pending states, the /link page, the callback's code exchange, and
storing the link.

`state` is random, bound to the member, stored only as a hash, single-use (claimed with one
`DELETE … RETURNING` before the code is exchanged) and expires after ten minutes. The PKCE
verifier and the /link interaction token (so the callback can edit the member's /link reply)
are kept encrypted beside it, with the member's and guild's names for the /link page.

The /link page is bound to the first browser that opens it: that browser gets a random
secret in a cookie, whose hash is stored with the state; the page's form (with a token
derived from the secret and the state) and the callback are refused without that cookie.
A Spotify account linked to another member is never moved: that member must /unlink first.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from bot.db.engine import Session, Sessions, session_scope
from bot.db.models import OAuthState
from bot.db.vault import TokenUndecryptable, TokenVault
from bot.services.linked_members import LinkedMembers
from bot.services.tokens import StaticTokens
from bot.spotify.client import SpotifyClient
from bot.spotify.errors import InvalidClient, InvalidGrant, NotAllowListed, SpotifyError
from bot.spotify.models import PrivateUser
from bot.spotify.oauth import SpotifyOAuth, TokenSet, new_pkce, new_state
from bot.store.links import NewTokens, get_link, holder_of_account, put_link
from bot.store.member_data import remove_member_data
from bot.store.oauth_states import bind_browser, get_state, replace_state, take_state

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
MAX_PARAM_LENGTH = 2048


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


hash_browser_secret = hash_state

_BROWSER_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


def new_browser_secret() -> str:
    return secrets.token_urlsafe(32)


def form_token(state: str, browser_secret: str) -> str:
    """The /link form's CSRF token: only a page served to the browser holding the secret can
    carry it, and it is good for this state only."""
    digest = hmac.new(
        browser_secret.encode(), b"encore-link-form\0" + state.encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


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
    OTHER_BROWSER = "other_browser"
    FORM_REFUSED = "form_refused"
    LINKED_ELSEWHERE = "linked_elsewhere"


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


@dataclass(frozen=True)
class LinkPage:
    """What the /link page shows, the browser secret its cookie holds and its form's token."""

    member_name: str | None
    guild_name: str | None
    browser_secret: str
    form_token: str


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
        member_name: str | None = None,
        guild_name: str | None = None,
    ) -> str:
        """Create a pending state and return the bot's own short link that starts it.

        The link opens a page on the web server naming `member_name` (and `guild_name`),
        whose form leads to Spotify (see `open_page` and `authorize_url`).
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
                member_name=member_name,
                guild_name=guild_name,
            )
        return f"{self._start_url}?{urlencode({'state': state})}"

    async def open_page(self, state: str | None, browser_secret: str | None) -> LinkPage:
        """What the /link page shows. The first browser to open it binds the state to its
        secret (`browser_secret`, or a new one when it has none); any other browser is
        refused with OTHER_BROWSER."""
        _check_param(state)
        assert state is not None
        if browser_secret is None or not _BROWSER_SECRET.fullmatch(browser_secret):
            browser_secret = new_browser_secret()
        state_hash = hash_state(state)
        async with session_scope(self._sessions) as session:
            row = await self._live_state(session, state_hash)
            if row.browser_hash is None:
                await bind_browser(session, state_hash, hash_browser_secret(browser_secret))
                row = await self._live_state(session, state_hash)
            member_name, guild_name = row.member_name, row.guild_name
            bound_to = row.browser_hash
        if not _same_secret(bound_to, browser_secret):
            raise LinkError(LinkFailure.OTHER_BROWSER)
        return LinkPage(member_name, guild_name, browser_secret, form_token(state, browser_secret))

    async def authorize_url(
        self, state: str | None, browser_secret: str | None, token: str | None
    ) -> str:
        """Spotify's authorize URL for the /link page's form, sent by the browser the state is
        bound to with the page's token (the state is not consumed)."""
        _check_param(state)
        assert state is not None
        async with self._sessions() as session:
            row = await self._live_state(session, hash_state(state))
            bound_to, verifier_enc = row.browser_hash, row.code_verifier_enc
        if not _same_secret(bound_to, browser_secret):
            raise LinkError(LinkFailure.OTHER_BROWSER)
        assert browser_secret is not None
        if not token or not hmac.compare_digest(
            token.encode(), form_token(state, browser_secret).encode()
        ):
            raise LinkError(LinkFailure.FORM_REFUSED)
        try:
            verifier = self._vault.decrypt(verifier_enc)
        except TokenUndecryptable:
            raise LinkError(LinkFailure.UNKNOWN_STATE) from None
        return self._oauth.authorize_url(state, pkce_challenge(verifier))

    async def _live_state(self, session: Session, state_hash: str) -> OAuthState:
        row = await get_state(session, state_hash)
        if row is None:
            raise LinkError(LinkFailure.UNKNOWN_STATE)
        if row.expires_at <= self._clock():
            raise LinkError(LinkFailure.EXPIRED_STATE)
        return row

    async def _consume(self, state: str, browser_secret: str | None) -> tuple[PendingLink, str]:
        """Claim the state (single use, and only by the browser it is bound to) and return
        what it held, with the PKCE verifier. An expired state is used up either way, so the
        member's /link reply can say so."""
        state_hash = hash_state(state)
        async with session_scope(self._sessions) as session:
            row = None
            if browser_secret is not None:
                row = await take_state(
                    session, state_hash, browser_hash=hash_browser_secret(browser_secret)
                )
            if row is None:
                held = await get_state(session, state_hash)
                if held is None:
                    raise LinkError(LinkFailure.UNKNOWN_STATE)
                if held.expires_at > self._clock():
                    raise LinkError(LinkFailure.OTHER_BROWSER)
                row = await take_state(session, state_hash)
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
        self,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        browser_secret: str | None,
    ) -> LinkResult:
        """Handle the callback's query parameters, sent by the browser holding
        `browser_secret`; raises LinkError with the reason."""
        _check_param(state)
        assert state is not None
        if error is None and (not code or len(code) > MAX_PARAM_LENGTH):
            raise LinkError(LinkFailure.MISSING_PARAMETERS)
        pending, verifier = await self._consume(state, browser_secret)
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
        await self._store(pending, me.link_id, me, tokens)
        return LinkResult(pending, me.display_name or me.id, me.id)

    async def _store(
        self, pending: PendingLink, account_id: str, me: PrivateUser, tokens: TokenSet
    ) -> None:
        """Store the link, unless another member holds this Spotify account: then nothing
        changes (LINKED_ELSEWHERE), whoever opened the link."""
        now, discord_user_id = self._clock(), pending.discord_user_id
        async with session_scope(self._sessions, shared_writes=True) as session:
            if await holder_of_account(session, account_id, other_than=discord_user_id):
                raise LinkError(LinkFailure.LINKED_ELSEWHERE, pending)
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


def _check_param(state: str | None) -> None:
    if not state or len(state) > MAX_PARAM_LENGTH:
        raise LinkError(LinkFailure.MISSING_PARAMETERS)


def _same_secret(bound_to: str | None, browser_secret: str | None) -> bool:
    if bound_to is None or browser_secret is None:
        return False
    return hmac.compare_digest(bound_to.encode(), hash_browser_secret(browser_secret).encode())
