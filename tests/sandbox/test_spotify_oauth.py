import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest

from bot.spotify.oauth import SCOPES
from sandbox.browser import forms_of, submit
from sandbox.spotify import SpotifySandbox
from sandbox.spotify_oauth import redirect_uri_problem
from tests.helpers.spotify_sandbox import SandboxFactory

REDIRECT = "http://127.0.0.1:8080/callback"
CLIENT = aiohttp.encode_basic_auth("sandbox-client", "sandbox-secret")


def verifier_and_challenge() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def authorize(
    sandbox: SpotifySandbox,
    http: aiohttp.ClientSession,
    *,
    challenge: str | None = None,
    decision: str | None = "accept",
    **overrides: str,
) -> tuple[int, dict[str, list[str]], str]:
    """Status, redirect query and body of a consent-page visit; a consent page shown is
    answered with `decision` (None: not answered, its status and body are returned)."""
    params = {
        "client_id": "sandbox-client",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "s-1",
        "scope": " ".join(SCOPES),
        **({"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {}),
        **overrides,
    }
    url = f"{sandbox.accounts_url}/authorize?{urlencode(params)}"
    async with http.get(url, allow_redirects=False) as response:
        status, body = response.status, await response.text()
        location = response.headers.get("Location", "")
    if status == 200 and decision is not None:
        answer = await submit(http, url, body, button=("decision", decision))
        status, location = answer.status, answer.headers.get("Location", "")
    return status, parse_qs(urlsplit(location).query), body


async def token(
    sandbox: SpotifySandbox,
    http: aiohttp.ClientSession,
    form: dict[str, str],
    authorization: str | None = CLIENT,
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": authorization} if authorization else {}
    async with http.post(sandbox.accounts_url + "/api/token", data=form, headers=headers) as answer:
        return answer.status, await answer.json()


async def code_for(sandbox: SpotifySandbox, http: aiohttp.ClientSession) -> tuple[str, str]:
    verifier, challenge = verifier_and_challenge()
    _, query, _ = await authorize(sandbox, http, challenge=challenge)
    return query["code"][0], verifier


def exchange_form(code: str, verifier: str, redirect_uri: str = REDIRECT) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }


async def test_authorization_code_with_pkce(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    spotify_sandbox.authorizing_user = "user4"
    verifier, challenge = verifier_and_challenge()

    status, query, _ = await authorize(spotify_sandbox, sandbox_http, challenge=challenge)
    assert status == 302 and query["state"] == ["s-1"]
    status, tokens = await token(
        spotify_sandbox, sandbox_http, exchange_form(query["code"][0], verifier)
    )

    assert status == 200
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"].split() == list(SCOPES)
    assert tokens["refresh_token"]
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with sandbox_http.get(spotify_sandbox.api_url + "/me", headers=headers) as me:
        assert (await me.json())["id"] == "user4"


async def test_the_first_user_authorizes_by_default(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    code, verifier = await code_for(spotify_sandbox, sandbox_http)

    _, tokens = await token(spotify_sandbox, sandbox_http, exchange_form(code, verifier))

    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    async with sandbox_http.get(spotify_sandbox.api_url + "/me", headers=headers) as me:
        assert (await me.json())["id"] == "user0"


async def test_a_denied_authorization_redirects_with_access_denied(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    spotify_sandbox.deny_next_authorization()

    denied = await authorize(spotify_sandbox, sandbox_http)
    allowed = await authorize(spotify_sandbox, sandbox_http)

    assert denied[0] == 302 and denied[1] == {"error": ["access_denied"], "state": ["s-1"]}
    assert "code" in allowed[1]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_id": "someone-else"}, "INVALID_CLIENT: Invalid client"),
        ({"redirect_uri": "http://localhost:8080/callback"}, "INVALID_CLIENT: Insecure"),
        ({"redirect_uri": "not a url"}, "INVALID_CLIENT: Invalid redirect URI"),
    ],
)
async def test_bad_clients_and_redirects_are_refused_on_the_page(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    overrides: dict[str, str],
    message: str,
) -> None:
    status, _, body = await authorize(spotify_sandbox, sandbox_http, **overrides)

    assert status == 400 and body.startswith(message)


async def test_only_registered_redirect_uris_when_some_are_configured(
    make_spotify_sandbox: SandboxFactory, sandbox_http: aiohttp.ClientSession
) -> None:
    sandbox = await make_spotify_sandbox(redirect_uris=["https://bot.example/callback"])

    other = await authorize(sandbox, sandbox_http)
    registered = await authorize(sandbox, sandbox_http, redirect_uri="https://bot.example/callback")

    assert other[0] == 400 and "Invalid redirect URI" in other[2]
    assert registered[0] == 302 and "code" in registered[1]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"scope": "user-top-read made-up-scope"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "abc", "code_challenge_method": "plain"}, "invalid_request"),
    ],
)
async def test_bad_authorization_requests_redirect_with_an_error(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    overrides: dict[str, str],
    error: str,
) -> None:
    status, query, _ = await authorize(spotify_sandbox, sandbox_http, **overrides)

    assert status == 302 and query["error"] == [error]


async def test_the_consent_page_is_skipped_only_for_an_app_the_user_authorised(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    spotify_sandbox.authorizing_user = "user2"
    first = await authorize(spotify_sandbox, sandbox_http, decision=None)
    assert first[0] == 200
    [form] = forms_of(first[2])
    assert form.method == "post" and form.buttons == {"decision": ["accept", "cancel"]}
    assert "user2" in first[2]

    accepted = await authorize(spotify_sandbox, sandbox_http)
    again = await authorize(spotify_sandbox, sandbox_http, decision=None)
    forced = await authorize(spotify_sandbox, sandbox_http, decision=None, show_dialog="true")
    more = await authorize(
        spotify_sandbox, sandbox_http, decision=None, scope="user-read-playback-state"
    )

    assert accepted[0] == 302 and "code" in accepted[1]
    assert again[0] == 302 and "code" in again[1] and again[2] == ""
    assert forced[0] == 200 and forms_of(forced[2])
    assert more[0] == 200, "a scope not granted yet shows the page"
    spotify_sandbox.revoke("user2")
    assert (await authorize(spotify_sandbox, sandbox_http, decision=None))[0] == 200


async def test_cancel_on_the_consent_page_redirects_with_access_denied(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    status, query, _ = await authorize(spotify_sandbox, sandbox_http, decision="cancel")

    assert status == 302 and query == {"error": ["access_denied"], "state": ["s-1"]}
    assert "user0" not in spotify_sandbox.accounts.authorized


def test_redirect_uri_rules() -> None:
    assert redirect_uri_problem("https://bot.example/callback") is None
    assert redirect_uri_problem("http://127.0.0.1:8080/callback") is None
    assert redirect_uri_problem("http://[::1]:8080/callback") is None
    assert redirect_uri_problem("http://localhost:8080/callback") == "Insecure redirect URI"
    assert redirect_uri_problem("http://bot.example/callback") == "Insecure redirect URI"


async def expect_oauth_error(
    sandbox: SpotifySandbox,
    http: aiohttp.ClientSession,
    form: dict[str, str],
    error: str,
    description: str,
    authorization: str | None = CLIENT,
) -> None:
    status, body = await token(sandbox, http, form, authorization)
    assert status == 400
    assert body == {"error": error, "error_description": description}


async def test_pkce_verifier_must_match(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    code, _ = await code_for(spotify_sandbox, sandbox_http)
    other_code, _ = await code_for(spotify_sandbox, sandbox_http)

    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        exchange_form(code, "not-the-verifier"),
        "invalid_grant",
        "code_verifier was incorrect",
    )
    form = exchange_form(other_code, "")
    del form["code_verifier"]
    await expect_oauth_error(
        spotify_sandbox, sandbox_http, form, "invalid_request", "code_verifier required"
    )


async def test_codes_are_single_use(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    code, verifier = await code_for(spotify_sandbox, sandbox_http)

    first, _ = await token(spotify_sandbox, sandbox_http, exchange_form(code, verifier))

    assert first == 200
    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        exchange_form(code, verifier),
        "invalid_grant",
        "Invalid authorization code",
    )


async def test_codes_expire(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    code, verifier = await code_for(spotify_sandbox, sandbox_http)
    spotify_sandbox.expire_authorization_codes()

    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        exchange_form(code, verifier),
        "invalid_grant",
        "Authorization code expired",
    )


async def test_the_redirect_uri_must_be_the_authorized_one(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    code, verifier = await code_for(spotify_sandbox, sandbox_http)

    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        exchange_form(code, verifier, "http://127.0.0.1:9999/elsewhere"),
        "invalid_grant",
        "Invalid redirect URI",
    )


@pytest.mark.parametrize(
    ("authorization", "description"),
    [
        (aiohttp.encode_basic_auth("sandbox-client", "wrong"), "Invalid client secret"),
        (aiohttp.encode_basic_auth("stranger", "sandbox-secret"), "Invalid client"),
        ("Basic !!!", "Invalid client"),
        (None, "Invalid client"),
    ],
)
async def test_clients_must_authenticate(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    authorization: str | None,
    description: str,
) -> None:
    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        {"grant_type": "client_credentials"},
        "invalid_client",
        description,
        authorization,
    )


async def test_credentials_in_the_body_and_public_pkce_clients(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    status, _ = await token(
        spotify_sandbox,
        sandbox_http,
        {
            "grant_type": "client_credentials",
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
        None,
    )
    assert status == 200
    code, verifier = await code_for(spotify_sandbox, sandbox_http)
    status, _ = await token(
        spotify_sandbox,
        sandbox_http,
        {**exchange_form(code, verifier), "client_id": "sandbox-client"},
        None,
    )
    assert status == 200
    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        {"grant_type": "client_credentials", "client_id": "sandbox-client"},
        "invalid_client",
        "Invalid client secret",
        None,
    )


async def test_grant_type_is_checked(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        {"grant_type": "password"},
        "unsupported_grant_type",
        "grant_type must be client_credentials, authorization_code or refresh_token",
    )
    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        {},
        "unsupported_grant_type",
        "grant_type parameter is missing",
    )
    async with sandbox_http.post(
        spotify_sandbox.accounts_url + "/api/token",
        json={"grant_type": "client_credentials"},
        headers={"Authorization": CLIENT},
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "unsupported_grant_type"


async def refresh(
    sandbox: SpotifySandbox, http: aiohttp.ClientSession, refresh_token: str
) -> tuple[int, dict[str, Any]]:
    return await token(
        sandbox, http, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


async def test_refresh_alternates_between_keeping_and_rotating_the_refresh_token(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    original = spotify_sandbox.issue_tokens("user1")["refresh_token"]

    status, first = await refresh(spotify_sandbox, sandbox_http, original)
    assert status == 200 and "refresh_token" not in first
    assert first["scope"].split() == list(SCOPES)
    status, second = await refresh(spotify_sandbox, sandbox_http, original)
    assert status == 200 and second["refresh_token"] != original

    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        {"grant_type": "refresh_token", "refresh_token": original},
        "invalid_grant",
        "Invalid refresh token",
    )
    status, third = await refresh(spotify_sandbox, sandbox_http, second["refresh_token"])
    assert status == 200 and "refresh_token" not in third
    headers = {"Authorization": f"Bearer {third['access_token']}"}
    async with sandbox_http.get(spotify_sandbox.api_url + "/me", headers=headers) as me:
        assert (await me.json())["id"] == "user1"


@pytest.mark.parametrize(("rotation", "rotated"), [("never", False), ("always", True)])
async def test_refresh_token_rotation_is_configurable(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    rotation: str,
    rotated: bool,
) -> None:
    spotify_sandbox.accounts.refresh_token_rotation = rotation  # type: ignore[assignment]
    refresh_token = spotify_sandbox.issue_tokens("user1")["refresh_token"]

    answers = [(await refresh(spotify_sandbox, sandbox_http, refresh_token))[1]]
    answers.append(
        (
            await refresh(
                spotify_sandbox, sandbox_http, answers[0].get("refresh_token", refresh_token)
            )
        )[1]
    )

    assert ["refresh_token" in answer for answer in answers] == [rotated, rotated]


async def test_an_expired_access_token_is_replaced_by_refreshing(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    tokens = spotify_sandbox.issue_tokens("user2")
    spotify_sandbox.expire_access_tokens("user2")

    _, fresh = await refresh(spotify_sandbox, sandbox_http, tokens["refresh_token"])

    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    async with sandbox_http.get(spotify_sandbox.api_url + "/me", headers=headers) as me:
        assert me.status == 200


async def test_revoked_and_unknown_refresh_tokens_are_invalid_grants(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    refresh_token = spotify_sandbox.issue_tokens("user3")["refresh_token"]
    spotify_sandbox.revoke("user3")

    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        "invalid_grant",
        "Refresh token revoked",
    )
    await expect_oauth_error(
        spotify_sandbox,
        sandbox_http,
        {"grant_type": "refresh_token", "refresh_token": "AQ-made-up"},
        "invalid_grant",
        "Invalid refresh token",
    )


async def test_client_credentials_give_an_app_token_for_the_catalog_only(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    status, tokens = await token(
        spotify_sandbox, sandbox_http, {"grant_type": "client_credentials"}
    )
    assert status == 200 and "refresh_token" not in tokens and "scope" not in tokens
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    track_url = f"{spotify_sandbox.api_url}/tracks/{spotify_sandbox.track_ids()[0]}"

    async with sandbox_http.get(track_url, headers=headers) as track:
        assert track.status == 200
    async with sandbox_http.get(spotify_sandbox.api_url + "/me", headers=headers) as me:
        assert me.status == 403
        assert (await me.json())["error"]["message"] == "Insufficient client scope"
