"""Typed failures of the Spotify Web API and the accounts service.

Callers branch on the class (and `.reason`), never on message text.
"""

from __future__ import annotations


class SpotifyError(Exception):
    """Any failure talking to Spotify; `body` is the raw error body, which never holds tokens."""

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        reason: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message or type(self).__name__)
        self.status = status
        self.reason = reason
        self.body = body


class RateLimited(SpotifyError):
    """Spotify asked us to slow down for longer than the caller is willing to wait."""

    def __init__(
        self,
        retry_after: float,
        *,
        status: int | None = 429,
        reason: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(
            f"rate limited by Spotify; retry in {retry_after:.0f} s",
            status=status,
            reason=reason,
            body=body,
        )
        self.retry_after = retry_after


class QuotaExceeded(SpotifyError):
    """The app's quota is used up (429 with reason QUOTA_EXCEEDED): the operator must act."""

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        reason: str | None = "QUOTA_EXCEEDED",
        body: str | None = None,
    ) -> None:
        super().__init__(message, status=status, reason=reason, body=body)
        self.retry_after = retry_after


class NotAllowListed(SpotifyError):
    """Development Mode: the member is not registered in the app's developer dashboard."""


class MissingScope(SpotifyError):
    """The member's grant lacks a scope the endpoint needs: they must /link again."""

    def __init__(
        self,
        message: str = "",
        *,
        scopes: tuple[str, ...] = (),
        status: int | None = 403,
        reason: str | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(message, status=status, reason=reason, body=body)
        self.scopes = scopes


class Forbidden(SpotifyError):
    """A 403 that is neither a missing scope nor a Development Mode refusal."""


class NotFound(SpotifyError):
    """404: the item does not exist (or is not visible to this app)."""


class BadRequest(SpotifyError):
    """400: Spotify refused the request as malformed."""


class Unauthorized(SpotifyError):
    """401 even after a token refresh."""


class SpotifyUnavailable(SpotifyError):
    """5xx, timeouts or connection errors that outlasted the retries."""


class OAuthError(SpotifyError):
    """The token endpoint refused a request for a reason not covered by a subclass."""


class InvalidGrant(OAuthError):
    """The code or refresh token was refused: the member must /link again. Never retry."""


class InvalidClient(OAuthError):
    """Client id, secret or redirect URI refused: the operator must fix the configuration."""
