import logging

import pytest

from bot.process.logs import ContextFilter, log_context, scrub


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("GET /callback?code=AQBx9secret&state=st4te", "AQBx9secret"),
        ("GET /callback?code=AQBx9secret&state=st4te", "st4te"),
        ("Authorization: Bearer BQDtokentoken", "BQDtokentoken"),
        ('{"access_token": "BQDabc", "token_type": "Bearer"}', "BQDabc"),
        ('{"refresh_token":"AQDrefresh"}', "AQDrefresh"),
        ("form code_verifier=verif1er&grant_type=x", "verif1er"),
    ],
)
def test_scrub_removes_secrets(text: str, secret: str) -> None:
    assert secret not in scrub(text)


def test_scrub_keeps_ordinary_text() -> None:
    assert scrub("member 42 linked a Spotify account") == "member 42 linked a Spotify account"


def test_filter_adds_context_and_scrubs() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", ("code=abc123",), None)
    token = log_context.set(" [guild=1]")
    try:
        assert ContextFilter().filter(record)
    finally:
        log_context.reset(token)
    assert record.getMessage() == "got code=[redacted]"
    assert record.ctx == " [guild=1]"  # type: ignore[attr-defined]


def test_tracebacks_are_scrubbed_too() -> None:
    from bot.process.logs import ScrubbingFormatter

    try:
        raise ValueError("GET /callback?code=AQsecret&state=xyz failed")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    text = ScrubbingFormatter("%(message)s").format(record)
    assert "Traceback" in text
    assert "AQsecret" not in text and "xyz" not in text
