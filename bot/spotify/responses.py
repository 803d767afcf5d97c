"""Reading Spotify's error answers (`{"error": {"status", "message", "reason"?}}`, Retry-After)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from bot.spotify.errors import (
    BadRequest,
    Forbidden,
    MissingScope,
    NotAllowListed,
    NotFound,
    QuotaExceeded,
    RateLimited,
    SpotifyError,
    SpotifyUnavailable,
    Unauthorized,
)

QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
DEFAULT_RETRY_AFTER = 1.0
MAX_KEPT_BODY = 2000

_FORBIDDEN_REASONS: dict[str, type[SpotifyError]] = {
    "USER_NOT_REGISTERED": NotAllowListed,
    "NOT_ALLOW_LISTED": NotAllowListed,
    "INSUFFICIENT_SCOPE": MissingScope,
    "MISSING_SCOPE": MissingScope,
}


def parse_retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); a default when absent."""
    if value is None:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_details(body: str) -> tuple[str, str | None]:
    """(message, reason) from an error body; the message is for logs, never for branching."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body[:200], None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        reason = error.get("reason")
        return (
            message if isinstance(message, str) else "",
            reason if isinstance(reason, str) and reason else None,
        )
    if isinstance(error, str):
        return error, None
    return "", None


def error_from_status(status: int, body: str, *, retry_after: float = 0.0) -> SpotifyError:
    """The error for a status whose meaning does not depend on the endpoint."""
    message, reason = error_details(body)
    kept = body[:MAX_KEPT_BODY]
    text = f"{status} {message}".strip()
    if status == 429:
        if reason == QUOTA_EXCEEDED:
            return QuotaExceeded(text, retry_after=retry_after, reason=reason, body=kept)
        return RateLimited(retry_after, reason=reason, body=kept)
    if status >= 500:
        return SpotifyUnavailable(text, status=status, reason=reason, body=kept)
    cls: type[SpotifyError] = {
        400: BadRequest,
        401: Unauthorized,
        403: Forbidden,
        404: NotFound,
    }.get(status, SpotifyError)
    return cls(text, status=status, reason=reason, body=kept)


def forbidden_error(
    body: str, *, missing_scopes: tuple[str, ...], profile_endpoint: bool
) -> SpotifyError:
    """Classify a 403 by reason, then by the granted scopes, then by the endpoint.

    GET /me needs no scope and is open to every member of the app, so a 403 there can only
    mean the member is not allow-listed for a Development Mode app.
    """
    message, reason = error_details(body)
    kept = body[:MAX_KEPT_BODY]
    text = f"403 {message}".strip()
    cls: type[SpotifyError]
    if reason is not None:
        cls = _FORBIDDEN_REASONS.get(reason, Forbidden)
    elif missing_scopes:
        cls = MissingScope
    elif profile_endpoint:
        cls = NotAllowListed
    else:
        cls = Forbidden
    if cls is MissingScope:
        return MissingScope(text, scopes=missing_scopes, reason=reason, body=kept)
    return cls(text, status=403, reason=reason, body=kept)
