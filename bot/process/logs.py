"""Logging set-up: one format, context fields, and a last-line filter that scrubs secrets."""

from __future__ import annotations

import contextvars
import logging
import re

log_context: contextvars.ContextVar[str] = contextvars.ContextVar("log_context", default="")


def bind_context(guild_id: int | None, member_id: int, action: str) -> None:
    """Tag the log lines of the current task (a command, a button press) with who and what."""
    log_context.set(f" [guild={guild_id} member={member_id} cmd={action}]")


_SECRET_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[\w\-.~+/]+=*"),
    re.compile(
        r"(?i)\b((?:access_|refresh_)?token|code|state|code_verifier|client_secret)=[^&\s\"']+"
    ),
    re.compile(r"(?i)(\"(?:access_token|refresh_token|code|state|code_verifier)\"\s*:\s*\")[^\"]+"),
    re.compile(r"(?i)(/(?:webhooks|interactions)/\d+/)[^/\s?#\"']+"),
)


def scrub(text: str) -> str:
    """Blank out anything shaped like a bearer token, an OAuth parameter value or the token
    part of a webhook / interaction URL."""
    text = _SECRET_PATTERNS[0].sub(r"\1[redacted]", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}=[redacted]", text)
    text = _SECRET_PATTERNS[2].sub(r"\1[redacted]", text)
    return _SECRET_PATTERNS[3].sub(r"\1[redacted]", text)


class ContextFilter(logging.Filter):
    """Adds the current command context (guild, member, command) and scrubs secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.ctx = log_context.get()
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class ScrubbingFormatter(logging.Formatter):
    """Scrubs the whole formatted record, tracebacks included (an exception's text may quote
    a URL with its query string)."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        ScrubbingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s%(ctx)s")
    )
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord").setLevel(max(logging.INFO, logging.getLevelName(level)))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
