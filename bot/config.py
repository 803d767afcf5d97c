"""Settings read from the environment (and `.env`), validated once at start.

Every name here is listed, with a comment, in `.env.example`.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8080/callback"
RESERVED_PATHS = ("/link", "/import", "/healthz", "/metrics")
REQUIRED_CREDENTIALS = ("DISCORD_TOKEN", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET")


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: str) -> str:
    """Apply Spotify's redirect URI rules: HTTPS, or plain http on a loopback IP literal."""
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(
            "must be an absolute http(s) URL, e.g. https://encore.example.org/callback"
        )
    if host == "localhost" or host.endswith(".localhost"):
        raise ValueError(
            "Spotify refuses 'localhost' redirect URIs; use the loopback IP, "
            "e.g. http://127.0.0.1:8080/callback"
        )
    if parts.scheme == "http" and not _is_loopback_ip(host):
        raise ValueError(
            "plain http is only allowed on a loopback IP literal (127.0.0.1 or [::1]); "
            "use https for any other host"
        )
    if parts.path in ("", "/"):
        raise ValueError("needs a path for the callback, e.g. /callback")
    if parts.path.rstrip("/") in RESERVED_PATHS:
        raise ValueError(f"the path {parts.path} is used by Encore itself; use e.g. /callback")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query string or fragment")
    return uri


def normalise_database_url(url: str) -> str:
    """Accept the common spellings and pick the async driver for each."""
    for prefix, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return url
    raise ValueError("use sqlite:///path/to.db or postgresql://user@host/dbname")


def _prefix(url: str) -> str:
    return url.rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=True,
    )

    DISCORD_TOKEN: SecretStr | None = None
    DISCORD_DEV_GUILD_ID: int | None = None
    DISCORD_MEMBERS_INTENT: bool = False
    DISCORD_PRESENCE_INTENT: bool = False
    SHARD_COUNT: int | None = Field(default=None, ge=1)
    SHARD_IDS: Annotated[list[int] | None, NoDecode] = None
    SPOTIFY_CLIENT_ID: str | None = None
    SPOTIFY_CLIENT_SECRET: SecretStr | None = None
    SPOTIFY_REDIRECT_URI: str = DEFAULT_REDIRECT_URI

    DATA_DIR: Path = Path("data")
    DATABASE_URL: str = ""
    TOKEN_ENCRYPTION_KEY: SecretStr | None = None

    WEB_HOST: str = "127.0.0.1"
    WEB_PORT: int = Field(default=8080, ge=0, le=65535)
    WEB_KEEPALIVE_SECONDS: float = Field(default=75, gt=0)
    WEB_REQUEST_TIMEOUT_SECONDS: float = Field(default=60, gt=0)
    METRICS_TOKEN: SecretStr | None = None
    LOG_LEVEL: str = "INFO"

    SYNC_INTERVAL_HOURS: float = Field(default=12, gt=0)
    SPOTIFY_SYNC_BUDGET: int = Field(default=100, ge=1)
    SPOTIFY_INTERACTIVE_SHARE: int = Field(default=50, ge=0)
    SPOTIFY_RECENT_BUDGET: int = Field(default=40, ge=1)
    SPOTIFY_ENRICH_BUDGET: int = Field(default=10, ge=1)
    SNAPSHOT_MAX_AGE_MINUTES: float = Field(default=60, ge=0)
    SPOTIFY_TIMEOUT_SECONDS: float = Field(default=10, gt=0)
    SPOTIFY_INTERACTIVE_MAX_WAIT: float = Field(default=5, ge=0)
    SPOTIFY_BACKGROUND_MAX_WAIT: float = Field(default=120, ge=0)

    IMPORT_MAX_BYTES: int = Field(default=512 << 20, ge=1 << 20)
    IMPORT_MAX_UNPACKED_BYTES: int = Field(default=8 << 30, ge=1 << 20)
    IMPORT_CONCURRENCY: int = Field(default=2, ge=1)

    SPOTIFY_API_URL: str = "https://api.spotify.com/v1"
    SPOTIFY_ACCOUNTS_URL: str = "https://accounts.spotify.com"
    DISCORD_API_URL: str | None = None
    DISCORD_GATEWAY_URL: str | None = None

    @field_validator("SPOTIFY_REDIRECT_URI")
    @classmethod
    def _redirect(cls, value: str) -> str:
        return check_redirect_uri(value)

    @field_validator("SPOTIFY_API_URL", "SPOTIFY_ACCOUNTS_URL", "DISCORD_API_URL")
    @classmethod
    def _url_prefix(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL prefix")
        return _prefix(value)

    @field_validator("DISCORD_GATEWAY_URL")
    @classmethod
    def _gateway(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("ws", "wss"):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    @field_validator("SHARD_IDS", mode="before")
    @classmethod
    def _shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        return value

    @field_validator("LOG_LEVEL")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("TOKEN_ENCRYPTION_KEY")
    @classmethod
    def _keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        for key in value.get_secret_value().split(","):
            try:
                Fernet(key.strip().encode())
            except (ValueError, TypeError):
                raise ValueError(
                    "each comma-separated key must be a Fernet key "
                    "(generate one with: python -m bot genkey)"
                ) from None
        return value

    @model_validator(mode="after")
    def _shards(self) -> Settings:
        if self.SHARD_IDS is not None:
            if self.SHARD_COUNT is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT (the total number of shards)")
            wrong = [i for i in self.SHARD_IDS if not 0 <= i < self.SHARD_COUNT]
            if wrong:
                raise ValueError(f"SHARD_IDS {wrong} are outside 0..{self.SHARD_COUNT - 1}")
        return self

    @model_validator(mode="after")
    def _database(self) -> Settings:
        if not self.DATABASE_URL:
            self.DATABASE_URL = f"sqlite+aiosqlite:///{self.DATA_DIR / 'encore.db'}"
        else:
            self.DATABASE_URL = normalise_database_url(self.DATABASE_URL)
        return self

    @cached_property
    def callback_path(self) -> str:
        return urlsplit(self.SPOTIFY_REDIRECT_URI).path

    @property
    def metrics_token(self) -> str | None:
        if self.METRICS_TOKEN is None:
            return None
        return self.METRICS_TOKEN.get_secret_value().strip() or None

    @property
    def encryption_keys(self) -> list[str]:
        if self.TOKEN_ENCRYPTION_KEY is None:
            return []
        raw = self.TOKEN_ENCRYPTION_KEY.get_secret_value()
        return [k.strip() for k in raw.split(",") if k.strip()]

    def missing_credentials(self) -> list[str]:
        return [name for name in REQUIRED_CREDENTIALS if not getattr(self, name)]


class ConfigError(Exception):
    """Settings that cannot be used, with one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's errors into `ConfigError` lines naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigError(problems) from None
