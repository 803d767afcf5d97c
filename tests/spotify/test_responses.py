from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.spotify.errors import (
    Forbidden,
    MissingScope,
    NotAllowListed,
    QuotaExceeded,
    RateLimited,
    SpotifyUnavailable,
)
from bot.spotify.responses import (
    DEFAULT_RETRY_AFTER,
    error_details,
    error_from_status,
    forbidden_error,
    parse_retry_after,
)


def _body(status: int, reason: str | None = None) -> str:
    error: dict[str, object] = {"status": status, "message": "msg"}
    if reason:
        error["reason"] = reason
    return json.dumps({"error": error})


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("3600", 3600.0), ("0.5", 0.5), ("-4", 0.0), (None, DEFAULT_RETRY_AFTER)],
)
def test_retry_after_seconds(header: str | None, seconds: float) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    header = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert parse_retry_after(header) == pytest.approx(120, abs=2)
    assert parse_retry_after("soon") == DEFAULT_RETRY_AFTER


def test_error_details() -> None:
    assert error_details(_body(429, "QUOTA_EXCEEDED")) == ("msg", "QUOTA_EXCEEDED")
    assert error_details(_body(404)) == ("msg", None)
    assert error_details('{"error": "invalid_grant"}') == ("invalid_grant", None)
    assert error_details("<html>oops</html>") == ("<html>oops</html>", None)


def test_rate_limit_errors() -> None:
    limited = error_from_status(429, _body(429), retry_after=7)
    quota = error_from_status(429, _body(429, "QUOTA_EXCEEDED"), retry_after=7)

    assert isinstance(limited, RateLimited) and limited.retry_after == 7
    assert isinstance(quota, QuotaExceeded) and quota.reason == "QUOTA_EXCEEDED"
    assert isinstance(error_from_status(504, ""), SpotifyUnavailable)


def test_forbidden_classification_order() -> None:
    by_reason = forbidden_error(
        _body(403, "USER_NOT_REGISTERED"), missing_scopes=("user-top-read",), profile_endpoint=False
    )
    by_scope = forbidden_error(_body(403), missing_scopes=("a",), profile_endpoint=True)
    by_endpoint = forbidden_error(_body(403), missing_scopes=(), profile_endpoint=True)
    other = forbidden_error(_body(403), missing_scopes=(), profile_endpoint=False)

    assert isinstance(by_reason, NotAllowListed)
    assert isinstance(by_scope, MissingScope) and by_scope.scopes == ("a",)
    assert isinstance(by_endpoint, NotAllowListed)
    assert type(other) is Forbidden
    assert other.body == _body(403)
