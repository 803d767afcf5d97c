"""Spotify's accounts service: Authorization Code with PKCE, token refresh, credential check."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.spotify.errors import InvalidClient, InvalidGrant, OAuthError, SpotifyUnavailable
from bot.spotify.responses import error_from_status, parse_retry_after
from bot.spotify.scopes import SCOPES

__all__ = ["SCOPES", "AppToken", "Pkce", "SpotifyOAuth", "TokenSet", "new_pkce", "new_state"]

APP_TOKEN_MARGIN = timedelta(seconds=60)


def new_state() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Pkce:
    verifier: str = field(repr=False)
    challenge: str


def new_pkce() -> Pkce:
    """A random verifier (RFC 7636: 43–128 URL-safe characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return Pkce(verifier=verifier, challenge=challenge)


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class AppToken:
    """The app's own token (client-credentials grant): catalog reads, no member's data."""

    access_token: str = field(repr=False)
    expires_at: datetime

    def usable(self, now: datetime) -> bool:
        return self.expires_at - now > APP_TOKEN_MARGIN


class SpotifyOAuth:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        accounts_url: str,
        timeout: float = 10,
    ) -> None:
        self._session = session
        self._client_id = client_id
        credentials = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        self._auth_header = {"Authorization": f"Basic {credentials}"}
        self._redirect_uri = redirect_uri
        self._accounts_url = accounts_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._app_token: AppToken | None = None
        self._app_token_request: asyncio.Task[AppToken] | None = None

    def authorize_url(self, state: str, code_challenge: str) -> str:
        """Spotify's consent page; `show_dialog` makes Spotify show it even to a user who
        authorised the app before, so nobody is linked without seeing what they grant."""
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": self._redirect_uri,
                "state": state,
                "scope": " ".join(SCOPES),
                "code_challenge_method": "S256",
                "code_challenge": code_challenge,
                "show_dialog": "true",
            }
        )
        return f"{self._accounts_url}/authorize?{query}"

    async def exchange_code(self, code: str, code_verifier: str) -> TokenSet:
        data = await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self._redirect_uri,
                "code_verifier": code_verifier,
            }
        )
        return _token_set(data, previous_refresh_token=None)

    async def refresh(self, refresh_token: str) -> TokenSet:
        """Refresh an access token; Spotify may omit a new refresh token, then the old one stays.

        `scopes` is empty when the response does not list them.
        """
        data = await self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        return _token_set(data, previous_refresh_token=refresh_token)

    async def check_client_credentials(self) -> None:
        """Ask for an app token, only to learn whether the client id and secret are accepted."""
        await self._token_request({"grant_type": "client_credentials"})

    async def app_token(self, *, stale: str | None = None) -> AppToken:
        """The app token, cached until a minute before it expires; concurrent callers share
        one grant request. `stale` is a token the Web API refused: it is replaced even if it
        has not expired yet."""
        cached = self._app_token
        if cached is not None and cached.access_token != stale and cached.usable(datetime.now(UTC)):
            return cached
        task = self._app_token_request
        if task is None:
            task = asyncio.create_task(self._new_app_token())
            self._app_token_request = task
            task.add_done_callback(self._app_token_done)
        return await asyncio.shield(task)

    async def _new_app_token(self) -> AppToken:
        data = await self._token_request({"grant_type": "client_credentials"})
        expires_in = int(data.get("expires_in", 3600))
        token = AppToken(
            access_token=str(data["access_token"]),
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        )
        self._app_token = token
        return token

    def _app_token_done(self, task: asyncio.Task[AppToken]) -> None:
        if self._app_token_request is task:
            self._app_token_request = None
        if not task.cancelled():
            task.exception()

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        url = f"{self._accounts_url}/api/token"
        try:
            async with self._session.post(
                url, data=form, headers=self._auth_header, timeout=self._timeout
            ) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                body = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SpotifyUnavailable(f"accounts service unreachable: {type(exc).__name__}") from exc
        if status == 200:
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if not isinstance(data, dict) or "access_token" not in data:
                raise OAuthError("token endpoint sent an unreadable answer", status=status)
            return data
        raise _token_error(status, body, parse_retry_after(retry_after))


def _token_error(status: int, body: str, retry_after: float) -> Exception:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, str):
        description = payload.get("error_description") if isinstance(payload, dict) else None
        message = f"{error}: {description}" if isinstance(description, str) else error
        if error == "invalid_grant":
            return InvalidGrant(message, status=status, reason=error, body=body)
        if error in ("invalid_client", "unauthorized_client") or status == 401:
            return InvalidClient(message, status=status, reason=error, body=body)
        return OAuthError(message, status=status, reason=error, body=body)
    if status == 401:
        return InvalidClient("client credentials refused", status=status, body=body)
    if status == 429 or status >= 500:
        return error_from_status(status, body, retry_after=retry_after)
    return OAuthError(f"token endpoint answered {status}", status=status, body=body)


def _token_set(data: dict[str, Any], *, previous_refresh_token: str | None) -> TokenSet:
    refresh_token = data.get("refresh_token") or previous_refresh_token
    if not refresh_token:
        raise OAuthError("token endpoint sent no refresh token")
    expires_in = int(data.get("expires_in", 3600))
    scope = data.get("scope")
    return TokenSet(
        access_token=str(data["access_token"]),
        refresh_token=str(refresh_token),
        expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
    )
