import pytest

from bot.config import ConfigError, check_redirect_uri, load_settings, normalise_database_url


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in (
        "DISCORD_TOKEN",
        "SPOTIFY_CLIENT_ID",
        "SPOTIFY_CLIENT_SECRET",
        "SPOTIFY_REDIRECT_URI",
        "DATABASE_URL",
        "TOKEN_ENCRYPTION_KEY",
        "METRICS_TOKEN",
        "WEB_KEEPALIVE_SECONDS",
        "WEB_REQUEST_TIMEOUT_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8080/callback",
        "http://[::1]:9000/cb",
        "https://encore.example.org/callback",
        "https://encore.example.org:8443/spotify/callback",
    ],
)
def test_redirect_uris_spotify_accepts(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("http://localhost:8080/callback", "localhost"),
        ("https://localhost/callback", "localhost"),
        ("http://encore.example.org/callback", "plain http"),
        ("http://192.168.1.5:8080/callback", "plain http"),
        ("ftp://127.0.0.1/callback", "http(s)"),
        ("https://encore.example.org", "path"),
        ("https://encore.example.org/link", "used by Encore"),
        ("https://encore.example.org/import", "used by Encore"),
        ("https://encore.example.org/cb?x=1", "query"),
    ],
)
def test_redirect_uris_refused_with_reason(uri: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_redirect_uri(uri)


def test_missing_credentials_are_named() -> None:
    settings = load_settings()
    assert settings.missing_credentials() == [
        "DISCORD_TOKEN",
        "SPOTIFY_CLIENT_ID",
        "SPOTIFY_CLIENT_SECRET",
    ]


def test_invalid_values_are_reported_per_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_REDIRECT_URI", "http://localhost:8080/callback")
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", "not-a-key")
    monkeypatch.setenv("WEB_PORT", "99999")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    names = {line.split(":", 1)[0] for line in caught.value.problems}
    assert names == {"SPOTIFY_REDIRECT_URI", "TOKEN_ENCRYPTION_KEY", "WEB_PORT"}


def test_empty_values_in_env_file_mean_default(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("DISCORD_DEV_GUILD_ID=\nDISCORD_TOKEN=abc\nWEB_PORT=\n")
    settings = load_settings()
    assert settings.DISCORD_DEV_GUILD_ID is None
    assert settings.WEB_PORT == 8080
    assert settings.DISCORD_TOKEN is not None
    assert settings.DISCORD_TOKEN.get_secret_value() == "abc"


def test_database_url_defaults_to_sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", "state")
    assert load_settings().DATABASE_URL == "sqlite+aiosqlite:///state/encore.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_get_async_drivers(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


def test_unknown_database_is_refused() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        normalise_database_url("mysql://u@h/db")


def test_encryption_keys_split_for_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEY", f"{first}, {second}")
    assert load_settings().encryption_keys == [first, second]


def test_shards_split_between_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", "0, 2")
    settings = load_settings()
    assert settings.SHARD_COUNT == 4
    assert settings.SHARD_IDS == [0, 2]


@pytest.mark.parametrize(("count", "ids"), [(None, "0"), ("2", "0,2")])
def test_bad_shard_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str
) -> None:
    if count is not None:
        monkeypatch.setenv("SHARD_COUNT", count)
    monkeypatch.setenv("SHARD_IDS", ids)
    with pytest.raises(ConfigError, match="SHARD"):
        load_settings()


def test_metrics_token_is_optional_and_blank_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().metrics_token is None
    monkeypatch.setenv("METRICS_TOKEN", "  ")
    assert load_settings().metrics_token is None
    monkeypatch.setenv("METRICS_TOKEN", "scrape-me")
    settings = load_settings()
    assert settings.metrics_token == "scrape-me"
    assert "scrape-me" not in repr(settings)


def test_web_timeouts_have_short_defaults_and_must_be_positive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings()
    assert 0 < settings.WEB_KEEPALIVE_SECONDS <= 75
    assert 0 < settings.WEB_REQUEST_TIMEOUT_SECONDS <= 120
    monkeypatch.setenv("WEB_KEEPALIVE_SECONDS", "0")
    with pytest.raises(ConfigError, match="WEB_KEEPALIVE_SECONDS"):
        load_settings()


def test_every_setting_is_listed_in_env_example() -> None:
    from pathlib import Path

    from bot.config import Settings

    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text()
    listed = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}
    assert set(Settings.model_fields) - listed == set()


def test_import_settings_have_defaults_and_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    settings = load_settings()
    assert settings.IMPORT_MAX_BYTES == 512 * 1024 * 1024
    assert settings.IMPORT_CONCURRENCY == 2
    with pytest.raises(ConfigError, match="IMPORT_CONCURRENCY"):
        load_settings(IMPORT_CONCURRENCY=0)
