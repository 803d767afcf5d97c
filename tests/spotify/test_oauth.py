from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.spotify.errors import (
    InvalidClient,
    InvalidGrant,
    OAuthError,
    RateLimited,
    SpotifyUnavailable,
)
from bot.spotify.oauth import SCOPES, SpotifyOAuth, TokenSet, new_pkce, new_state
from tests.spotify.conftest import FakeSpotify, Reply

TOKENS = {
    "access_token": "new-access",
    "token_type": "Bearer",
    "expires_in": 3600,
    "refresh_token": "new-refresh",
    "scope": "user-top-read user-library-read",
}


def test_scopes_are_the_ones_encore_needs() -> None:
    assert set(SCOPES) == {
        "user-top-read",
        "user-library-read",
        "user-library-modify",
        "user-follow-read",
        "user-follow-modify",
        "playlist-read-private",
        "playlist-modify-private",
        "playlist-modify-public",
        "user-read-playback-position",
        "user-read-currently-playing",
        "user-read-recently-played",
    }


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    pkce = new_pkce()
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert 43 <= len(pkce.verifier) <= 128
    assert new_pkce().verifier != pkce.verifier
    assert pkce.verifier not in repr(pkce)


def test_states_are_unguessable() -> None:
    assert len({new_state() for _ in range(100)}) == 100
    assert len(new_state()) >= 32


def test_authorize_url(oauth: SpotifyOAuth, fake: FakeSpotify) -> None:
    url = oauth.authorize_url("the-state", "the-challenge")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{fake.base_url}/authorize"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": "client-id",
        "response_type": "code",
        "redirect_uri": "http://127.0.0.1:8080/callback",
        "state": "the-state",
        "scope": " ".join(SCOPES),
        "code_challenge_method": "S256",
        "code_challenge": "the-challenge",
        "show_dialog": "true",
    }


async def test_exchange_code(oauth: SpotifyOAuth, fake: FakeSpotify) -> None:
    fake.queue("POST", "/api/token", Reply(200, TOKENS))

    tokens = await oauth.exchange_code("the-code", "the-verifier")

    assert (tokens.access_token, tokens.refresh_token) == ("new-access", "new-refresh")
    assert tokens.scopes == ("user-top-read", "user-library-read")
    expected_expiry = datetime.now(UTC) + timedelta(hours=1)
    assert abs(tokens.expires_at - expected_expiry) < timedelta(seconds=5)
    sent = fake.token_requests[0]
    assert sent.body == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "http://127.0.0.1:8080/callback",
        "code_verifier": "the-verifier",
    }
    assert sent.authorization == "Basic " + base64.b64encode(b"client-id:client-secret").decode()


async def test_refresh_keeps_the_old_refresh_token_when_none_comes(
    oauth: SpotifyOAuth, fake: FakeSpotify
) -> None:
    without = {k: v for k, v in TOKENS.items() if k != "refresh_token"}
    fake.queue("POST", "/api/token", Reply(200, without), Reply(200, TOKENS))

    kept = await oauth.refresh("old-refresh")
    replaced = await oauth.refresh("old-refresh")

    assert kept.refresh_token == "old-refresh"
    assert replaced.refresh_token == "new-refresh"
    assert fake.token_requests[0].body == {
        "grant_type": "refresh_token",
        "refresh_token": "old-refresh",
    }


async def test_check_client_credentials(oauth: SpotifyOAuth, fake: FakeSpotify) -> None:
    fake.queue("POST", "/api/token", Reply(200, {"access_token": "app", "expires_in": 3600}))

    await oauth.check_client_credentials()

    assert fake.token_requests[0].body == {"grant_type": "client_credentials"}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "Refresh token revoked"},
            InvalidGrant,
        ),
        (400, {"error": "invalid_client", "error_description": "Invalid client"}, InvalidClient),
        (401, {"error": "invalid_client"}, InvalidClient),
        (401, None, InvalidClient),
        (400, {"error": "invalid_request"}, OAuthError),
        (400, None, OAuthError),
        (503, None, SpotifyUnavailable),
        (429, None, RateLimited),
    ],
)
async def test_token_endpoint_failures(
    oauth: SpotifyOAuth,
    fake: FakeSpotify,
    status: int,
    body: dict[str, str] | None,
    error: type[Exception],
) -> None:
    fake.queue("POST", "/api/token", Reply(status, body, {"Retry-After": "30"}))

    with pytest.raises(error) as caught:
        await oauth.refresh("the-refresh-token")

    assert type(caught.value) is error
    assert len(fake.token_requests) == 1


async def test_invalid_client_on_credential_check(oauth: SpotifyOAuth, fake: FakeSpotify) -> None:
    fake.queue("POST", "/api/token", Reply(400, {"error": "invalid_client"}))

    with pytest.raises(InvalidClient):
        await oauth.check_client_credentials()


async def test_an_answer_without_tokens_is_an_oauth_error(
    oauth: SpotifyOAuth, fake: FakeSpotify
) -> None:
    fake.queue("POST", "/api/token", Reply(200, {"token_type": "Bearer"}))

    with pytest.raises(OAuthError):
        await oauth.exchange_code("code", "verifier")


def test_token_sets_do_not_show_tokens() -> None:
    tokens = TokenSet("secret-access", "secret-refresh", datetime.now(UTC), ("user-top-read",))
    assert "secret" not in repr(tokens)
