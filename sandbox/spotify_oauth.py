"""The sandbox's accounts service: `/authorize`, `/api/token`, and the tokens it hands out.

Authorization Code with PKCE (S256), refresh tokens and client credentials, with Spotify's
OAuth error shape `{"error": "...", "error_description": "..."}`. Codes are single-use and
expire; refresh-token rotation follows `refresh_token_rotation` so both client paths ("a new
refresh token came" / "keep the old one") are exercised deterministically.

The consent page behaves like Spotify's: a user who already authorised the app for the asked
scopes is sent straight back with a code, unless the request says `show_dialog=true`; anyone
else gets a page whose form (Agree / Cancel) POSTs to `/authorize`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import secrets
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from html import escape
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from bot.spotify.oauth import SCOPES
from sandbox.spotify_http import ApiError, json_response

KNOWN_SCOPES = frozenset(
    {
        *SCOPES,  # what Encore asks for, the default grant of `issue_tokens`
        "app-remote-control",
        "playlist-read-collaborative",
        "streaming",
        "ugc-image-upload",
        "user-modify-playback-state",
        "user-read-currently-playing",
        "user-read-email",
        "user-read-playback-position",
        "user-read-playback-state",
        "user-read-private",
        "user-read-recently-played",
    }
)

RefreshRotation = Literal["never", "always", "alternate"]


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> web.Response:
        body = {"error": self.error, "error_description": self.description}
        return json_response(body, self.status)


@dataclass
class Grant:
    """One authorization: the refresh-token family and the access tokens it produced."""

    user_id: str | None
    scopes: tuple[str, ...]
    confidential: bool
    refreshes: int = 0
    revoked: bool = False


@dataclass
class AccessToken:
    grant: Grant
    expires_at: float


@dataclass(frozen=True)
class _PendingCode:
    user_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    code_challenge: str | None
    expires_at: float


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redirect_uri_problem(uri: str) -> str | None:
    """Spotify's rules: HTTPS, or plain HTTP to a loopback IP literal (never `localhost`)."""
    parts = urlsplit(uri)
    if not parts.hostname:
        return "Invalid redirect URI"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http":
        try:
            if ipaddress.ip_address(parts.hostname).is_loopback:
                return None
        except ValueError:
            pass
    return "Insecure redirect URI"


def _with_query(uri: str, params: Mapping[str, str]) -> str:
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{urlencode(params)}"


def _back(redirect_uri: str, request: Mapping[str, str], params: Mapping[str, str]) -> web.Response:
    """The redirect to the app with `params` and the request's `state`."""
    state = {"state": request["state"]} if "state" in request else {}
    return web.Response(
        status=302, headers={"Location": _with_query(redirect_uri, {**params, **state})}
    )


AUTHORIZE_FIELDS = (
    "client_id",
    "response_type",
    "redirect_uri",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "show_dialog",
)


def _consent_page(query: Mapping[str, str], user_id: str, scopes: Collection[str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(query[name])}">'
        for name in AUTHORIZE_FIELDS
        if name in query
    )
    granted = "".join(f"<li>{escape(scope)}</li>" for scope in scopes)
    return (
        "<!doctype html><html><head><title>Spotify sandbox · consent</title></head><body>"
        f"<h1>Allow this app to access your account?</h1><p>Logged in as {escape(user_id)}</p>"
        f'<ul>{granted}</ul><form method="post" action="/authorize">{hidden}'
        '<button name="decision" value="accept">Agree</button>'
        '<button name="decision" value="cancel">Cancel</button></form></body></html>'
    )


class AccountsService:
    def __init__(self, *, client_id: str, client_secret: str, redirect_uris: Collection[str]):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = frozenset(redirect_uris)
        self.code_lifetime = 600.0
        self.refresh_token_rotation: RefreshRotation = "alternate"
        self._codes: dict[str, _PendingCode] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, Grant] = {}
        self.authorized: dict[str, frozenset[str]] = {}
        """The scopes each user has granted this app (consent pages skip these users unless
        `show_dialog=true`)."""
        self.issued: list[str] = []
        """Every authorization code, access and refresh token handed out, so tests can look
        for leaks."""

    # Tokens

    def issue_tokens(
        self,
        user_id: str | None,
        scopes: Collection[str],
        expires_in: int,
        *,
        confidential: bool = True,
    ) -> dict[str, Any]:
        grant = Grant(user_id, tuple(scopes), confidential)
        answer = self._access_token(grant, expires_in)
        if user_id is not None:
            answer["refresh_token"] = self._refresh_token(grant)
            self._authorize_app(user_id, scopes)
        return answer

    def _authorize_app(self, user_id: str, scopes: Collection[str]) -> None:
        self.authorized[user_id] = self.authorized.get(user_id, frozenset()) | frozenset(scopes)

    def _access_token(self, grant: Grant, expires_in: int) -> dict[str, Any]:
        token = "BQ" + secrets.token_urlsafe(48)
        self.issued.append(token)
        self._access[token] = AccessToken(grant, time.monotonic() + expires_in)
        answer: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }
        if grant.user_id is not None:
            answer["scope"] = " ".join(grant.scopes)
        return answer

    def _refresh_token(self, grant: Grant) -> str:
        token = "AQ" + secrets.token_urlsafe(96)
        self.issued.append(token)
        self._refresh[token] = grant
        return token

    def owner(self, access_token: str | None) -> str | None:
        """The user an access token belongs to, valid or not (for the request log)."""
        entry = self._access.get(access_token or "")
        return entry.grant.user_id if entry else None

    def check(self, access_token: str | None) -> Grant:
        """The grant behind a bearer token; raises the Web API's 401 otherwise."""
        if not access_token:
            raise ApiError(401, "No token provided")
        entry = self._access.get(access_token)
        if entry is None or entry.grant.revoked:
            raise ApiError(401, "Invalid access token")
        if time.monotonic() >= entry.expires_at:
            raise ApiError(401, "The access token expired")
        return entry.grant

    def expire_access_tokens(self, user_id: str) -> None:
        for entry in self._access.values():
            if entry.grant.user_id == user_id:
                entry.expires_at = 0.0

    def revoke(self, user_id: str) -> None:
        """The member removed the app: access tokens die, refreshes get `invalid_grant`, and
        the next consent page is shown again."""
        self.authorized.pop(user_id, None)
        for grant in self._refresh.values():
            if grant.user_id == user_id:
                grant.revoked = True
        self._access = {
            token: entry for token, entry in self._access.items() if entry.grant.user_id != user_id
        }

    def expire_authorization_codes(self) -> None:
        self._codes = {
            code: replace(pending, expires_at=0.0) for code, pending in self._codes.items()
        }

    # /authorize

    def authorize(self, query: Mapping[str, str], *, user_id: str) -> web.Response:
        """GET /authorize as `user_id`: the consent page, or straight back to the app when
        the user authorised it before and `show_dialog` is not `true`."""
        checked = self._check_request(query)
        if isinstance(checked, web.Response):
            return checked
        redirect_uri, scopes = checked
        already = user_id in self.authorized and set(scopes) <= self.authorized[user_id]
        if already and query.get("show_dialog", "").lower() != "true":
            return self._grant_code(query, user_id, redirect_uri, scopes)
        return web.Response(
            text=_consent_page(query, user_id, scopes),
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )

    def consent(self, form: Mapping[str, str], *, user_id: str, deny: bool) -> web.Response:
        """POST /authorize: the consent page's answer (`decision` accept or cancel) as
        `user_id`; `deny` presses Cancel whatever was sent."""
        checked = self._check_request(form)
        if isinstance(checked, web.Response):
            return checked
        redirect_uri, scopes = checked
        if deny or form.get("decision") != "accept":
            return _back(redirect_uri, form, {"error": "access_denied"})
        self._authorize_app(user_id, scopes)
        return self._grant_code(form, user_id, redirect_uri, scopes)

    def _check_request(
        self, query: Mapping[str, str]
    ) -> tuple[str, tuple[str, ...]] | web.Response:
        """The redirect URI and scopes of a valid authorization request, or the answer to an
        invalid one (a page for a bad client or redirect, else a redirect with the error)."""
        if query.get("client_id") != self.client_id:
            return web.Response(status=400, text="INVALID_CLIENT: Invalid client")
        redirect_uri = query.get("redirect_uri", "")
        problem = redirect_uri_problem(redirect_uri)
        if problem is None and self.redirect_uris and redirect_uri not in self.redirect_uris:
            problem = "Invalid redirect URI"
        if problem:
            return web.Response(status=400, text=f"INVALID_CLIENT: {problem}")
        scopes = tuple(query.get("scope", "").split())
        challenge = query.get("code_challenge")
        error = None
        if query.get("response_type") != "code":
            error = "unsupported_response_type"
        elif not set(scopes) <= KNOWN_SCOPES:
            error = "invalid_scope"
        elif challenge is not None and query.get("code_challenge_method") != "S256":
            error = "invalid_request"
        if error:
            return _back(redirect_uri, query, {"error": error})
        return redirect_uri, scopes

    def _grant_code(
        self, query: Mapping[str, str], user_id: str, redirect_uri: str, scopes: tuple[str, ...]
    ) -> web.Response:
        code = secrets.token_urlsafe(32)
        self.issued.append(code)
        self._codes[code] = _PendingCode(
            user_id,
            scopes,
            redirect_uri,
            query.get("code_challenge"),
            time.monotonic() + self.code_lifetime,
        )
        return _back(redirect_uri, query, {"code": code})

    # /api/token

    async def token(self, request: web.Request) -> web.Response:
        try:
            if request.content_type != "application/x-www-form-urlencoded":
                raise OAuthError("unsupported_grant_type", "grant_type parameter is missing")
            posted = await request.post()
            form = {key: value for key, value in posted.items() if isinstance(value, str)}
            confidential = self._authenticate(request.headers.get("Authorization"), form)
            answer = self._token_answer(form, confidential)
        except OAuthError as error:
            return error.response()
        logged = {
            key: "<redacted>" if key.endswith("_token") else value for key, value in answer.items()
        }
        return json_response(answer, headers={"Cache-Control": "no-store"}, logged=logged)

    def _authenticate(self, authorization: str | None, form: Mapping[str, str]) -> bool:
        """Checks the client; True when it proved its secret, False for a public (PKCE) client."""
        if authorization is not None:
            scheme, _, encoded = authorization.partition(" ")
            try:
                client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError("invalid_client", "Invalid client") from None
            if scheme.lower() != "basic" or client_id != self.client_id:
                raise OAuthError("invalid_client", "Invalid client")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            if client_id != self.client_id:
                raise OAuthError("invalid_client", "Invalid client")
            if not secret:
                return False
        if not secrets.compare_digest(secret, self.client_secret):
            raise OAuthError("invalid_client", "Invalid client secret")
        return True

    def _token_answer(self, form: Mapping[str, str], confidential: bool) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            answer = self._exchange_code(form, confidential)
        elif grant_type == "refresh_token":
            answer = self._refresh_grant(form, confidential)
        elif grant_type == "client_credentials":
            if not confidential:
                raise OAuthError("invalid_client", "Invalid client secret")
            answer = self.issue_tokens(None, (), 3600)
        elif grant_type is None:
            raise OAuthError("unsupported_grant_type", "grant_type parameter is missing")
        else:
            raise OAuthError(
                "unsupported_grant_type",
                "grant_type must be client_credentials, authorization_code or refresh_token",
            )
        return answer

    def _exchange_code(self, form: Mapping[str, str], confidential: bool) -> dict[str, Any]:
        pending = self._codes.pop(form.get("code", ""), None)
        if pending is None:
            raise OAuthError("invalid_grant", "Invalid authorization code")
        if time.monotonic() >= pending.expires_at:
            raise OAuthError("invalid_grant", "Authorization code expired")
        if form.get("redirect_uri") != pending.redirect_uri:
            raise OAuthError("invalid_grant", "Invalid redirect URI")
        verifier = form.get("code_verifier")
        if pending.code_challenge is not None:
            if not verifier:
                raise OAuthError("invalid_request", "code_verifier required")
            if not secrets.compare_digest(pkce_challenge(verifier), pending.code_challenge):
                raise OAuthError("invalid_grant", "code_verifier was incorrect")
        elif not confidential:
            raise OAuthError("invalid_client", "Invalid client secret")
        return self.issue_tokens(pending.user_id, pending.scopes, 3600, confidential=confidential)

    def _refresh_grant(self, form: Mapping[str, str], confidential: bool) -> dict[str, Any]:
        old_token = form.get("refresh_token", "")
        grant = self._refresh.get(old_token)
        if grant is None:
            raise OAuthError("invalid_grant", "Invalid refresh token")
        if grant.revoked:
            raise OAuthError("invalid_grant", "Refresh token revoked")
        if grant.confidential and not confidential:
            raise OAuthError("invalid_client", "Invalid client secret")
        grant.refreshes += 1
        answer = self._access_token(grant, 3600)
        rotation = self.refresh_token_rotation
        if rotation == "always" or (rotation == "alternate" and grant.refreshes % 2 == 0):
            del self._refresh[old_token]
            answer["refresh_token"] = self._refresh_token(grant)
        return answer
