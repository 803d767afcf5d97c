import itertools
import time
from typing import Any

import aiohttp
import pytest

from sandbox.spotify import NOT_ALLOW_LISTED, SpotifySandbox
from sandbox.spotify_users import TIME_RANGES
from tests.helpers.spotify_sandbox import SandboxFactory, bearer


async def get(
    http: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.get(url, headers=headers, params=params) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body, response


# Lifecycle and users


async def test_urls_name_the_running_server(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    assert spotify_sandbox.base_url.startswith("http://127.0.0.1:")
    assert spotify_sandbox.api_url == spotify_sandbox.base_url + "/v1"
    assert spotify_sandbox.accounts_url == spotify_sandbox.base_url

    status, body, _ = await get(
        sandbox_http, spotify_sandbox.api_url + "/me", bearer(spotify_sandbox, "user3")
    )

    assert status == 200
    assert body["id"] == "user3"
    assert body["account_id"] == spotify_sandbox.users["user3"].account_id


async def test_urls_need_a_started_sandbox() -> None:
    sandbox = SpotifySandbox()

    with pytest.raises(RuntimeError):
        _ = sandbox.api_url
    async with sandbox:
        assert sandbox.api_url
    await sandbox.close()


def test_seeded_users_and_added_users() -> None:
    sandbox = SpotifySandbox(users=3)

    assert list(sandbox.users) == ["user0", "user1", "user2"]
    assert len({user.account_id for user in sandbox.users.values()}) == 3
    added = sandbox.add_user(display_name="Dana", allow_listed=False)
    assert (added.id, added.display_name, added.allow_listed) == ("user3", "Dana", False)
    assert [user.id for user in sandbox.add_users(2)] == ["user4", "user5"]
    with pytest.raises(ValueError):
        sandbox.add_user("user1")
    with pytest.raises(KeyError):
        sandbox.issue_tokens("nobody")


def test_many_users_are_created_without_generating_their_data() -> None:
    sandbox = SpotifySandbox(users=0)

    users = sandbox.add_users(1000)

    assert len(sandbox.users) == 1000
    assert all(user._data is None for user in users)
    assert len(users[-1].top_artists["long_term"]) == 50


def test_the_same_seed_gives_the_same_users_and_catalog() -> None:
    first, again, other = SpotifySandbox(seed=7), SpotifySandbox(seed=7), SpotifySandbox(seed=8)

    for user_id in ("user0", "user5"):
        ours, theirs = first.users[user_id], again.users[user_id]
        assert (ours.account_id, ours.display_name) == (theirs.account_id, theirs.display_name)
        assert ours.top_artists == theirs.top_artists
        assert ours.top_tracks == theirs.top_tracks
        assert ours.library == theirs.library
        assert ours.playlists == theirs.playlists
    assert first.track_ids() == again.track_ids()
    assert first.playlist_ids() == again.playlist_ids()
    assert first.users["user0"].top_artists != other.users["user0"].top_artists
    assert set(first.track_ids()).isdisjoint(other.track_ids())


def test_users_have_full_top_lists_and_a_library() -> None:
    sandbox = SpotifySandbox()

    for user in sandbox.users.values():
        for time_range in TIME_RANGES:
            artists, tracks = user.top_artists[time_range], user.top_tracks[time_range]
            assert len(set(artists)) == len(artists) == 50
            assert len(set(tracks)) == len(tracks) == 50
            assert set(artists) <= set(sandbox.catalog.artists)
            assert set(tracks) <= set(sandbox.catalog.tracks)
        kinds = [uri.split(":")[1] for uri in user.library]
        assert 100 <= kinds.count("track") <= 140
        assert 25 <= kinds.count("artist") <= 35
        assert kinds.count("album") and kinds.count("show") and kinds.count("audiobook")
        assert all(playlist in sandbox.catalog.playlists for playlist in user.playlists)
        assert list(user.library.values()) == sorted(user.library.values())


def test_users_tastes_overlap_but_differ() -> None:
    users = list(SpotifySandbox().users.values())
    shared = [
        len(set(one.top_artists["medium_term"]) & set(two.top_artists["medium_term"]))
        for one, two in itertools.combinations(users, 2)
    ]

    assert max(shared) >= 10
    assert all(count < 50 for count in shared)
    assert sum(count > 0 for count in shared) > len(shared) // 2
    user = users[0]
    assert user.top_artists["short_term"] != user.top_artists["long_term"]
    assert set(user.top_artists["short_term"]) & set(user.top_artists["long_term"])


# Access control


async def test_bearer_tokens_are_required_and_checked(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    url = spotify_sandbox.api_url + "/me"
    cases = [
        (None, "No token provided"),
        ({"Authorization": "Bearer nonsense"}, "Invalid access token"),
    ]
    for headers, message in cases:
        status, body, _ = await get(sandbox_http, url, headers)
        assert (status, body["error"]["message"]) == (401, message)

    headers = bearer(spotify_sandbox)
    spotify_sandbox.expire_access_tokens("user0")
    status, body, _ = await get(sandbox_http, url, headers)
    assert (status, body["error"]["message"]) == (401, "The access token expired")


async def test_tokens_expire_after_their_lifetime(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    headers = bearer(spotify_sandbox, expires_in=0)

    status, _, _ = await get(sandbox_http, spotify_sandbox.api_url + "/me", headers)

    assert status == 401


async def test_revoked_users_get_401(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    headers, other = bearer(spotify_sandbox, "user0"), bearer(spotify_sandbox, "user1")

    spotify_sandbox.revoke("user0")

    assert (await get(sandbox_http, spotify_sandbox.api_url + "/me", headers))[0] == 401
    assert (await get(sandbox_http, spotify_sandbox.api_url + "/me", other))[0] == 200


@pytest.mark.parametrize("path", ["/me", "/search?q=heart&type=track", "/me/top/tracks"])
async def test_users_off_the_allow_list_get_403_everywhere(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession, path: str
) -> None:
    spotify_sandbox.add_user("outsider", allow_listed=False)

    status, body, _ = await get(
        sandbox_http, spotify_sandbox.api_url + path, bearer(spotify_sandbox, "outsider")
    )

    assert (status, body["error"]["message"]) == (403, NOT_ALLOW_LISTED)


async def test_a_missing_scope_is_403(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    headers = bearer(spotify_sandbox, scopes=("user-library-read",))

    top = await get(sandbox_http, spotify_sandbox.api_url + "/me/top/artists", headers)
    saved = await get(sandbox_http, spotify_sandbox.api_url + "/me/tracks", headers)

    assert (top[0], top[1]["error"]["message"]) == (403, "Insufficient client scope")
    assert saved[0] == 200


# Request log


async def test_every_request_is_recorded(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    headers = bearer(spotify_sandbox, "user2")
    before = time.monotonic()
    await get(sandbox_http, spotify_sandbox.api_url + "/me/top/artists", headers, limit=3)
    await get(sandbox_http, spotify_sandbox.api_url + "/me", {"Authorization": "Bearer nope"})

    first, second = spotify_sandbox.requests
    assert (first.method, first.path, first.query) == ("GET", "/v1/me/top/artists", {"limit": "3"})
    assert (first.status, first.user_id) == (200, "user2")
    assert len(first.response_json["items"]) == 3
    assert (second.status, second.user_id) == (401, None)
    assert before <= first.at <= second.at
    assert spotify_sandbox.requests_to("/me/top") == [first]
    assert spotify_sandbox.requests_to("/v1/me") == [first, second]
    spotify_sandbox.clear_requests()
    assert spotify_sandbox.requests == []


async def test_refusals_outside_the_web_api_are_recorded_too(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    async with sandbox_http.get(spotify_sandbox.base_url + "/nowhere") as response:
        assert response.status == 404
    async with sandbox_http.get(spotify_sandbox.base_url + "/images/x.png?size=1") as response:
        assert response.status == 400

    assert [record.status for record in spotify_sandbox.requests] == [404, 400]


async def test_the_log_keeps_no_oauth_secrets(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    params = {
        "client_id": "sandbox-client",
        "response_type": "code",
        "redirect_uri": "http://127.0.0.1:9/callback",
        "state": "secret-state",
    }
    async with sandbox_http.get(
        spotify_sandbox.accounts_url + "/authorize", params=params, allow_redirects=False
    ) as response:
        assert response.status == 200  # the consent page
    async with sandbox_http.post(
        spotify_sandbox.accounts_url + "/api/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": aiohttp.encode_basic_auth("sandbox-client", "sandbox-secret")},
    ) as response:
        token = (await response.json())["access_token"]

    authorize, exchange = spotify_sandbox.requests
    assert authorize.query["state"] == "<redacted>"
    assert exchange.response_json["access_token"] == "<redacted>"
    assert token not in repr(spotify_sandbox.requests)


# Faults


async def test_rate_limit_answers_429_with_retry_after(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    headers = bearer(spotify_sandbox)
    spotify_sandbox.faults.rate_limit(2, count=2)

    answers = [await get(sandbox_http, spotify_sandbox.api_url + "/me", headers) for _ in range(3)]

    assert [status for status, _, _ in answers] == [429, 429, 200]
    assert answers[0][2].headers["Retry-After"] == "2"
    assert answers[0][1] == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    assert spotify_sandbox.requests[0].headers == {"Retry-After": "2"}


async def test_rate_limit_can_carry_a_reason_and_target_a_path(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    headers = bearer(spotify_sandbox)
    spotify_sandbox.faults.rate_limit(1.5, reason="QUOTA_EXCEEDED", path="/me/top")

    me = await get(sandbox_http, spotify_sandbox.api_url + "/me", headers)
    top = await get(sandbox_http, spotify_sandbox.api_url + "/me/top/tracks", headers)

    assert me[0] == 200
    assert top[0] == 429
    assert top[1]["error"]["reason"] == "QUOTA_EXCEEDED"
    assert top[2].headers["Retry-After"] == "1.5"


async def test_server_errors_and_clear(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    headers = bearer(spotify_sandbox)
    spotify_sandbox.faults.server_error(count=5, status=502)

    first = await get(sandbox_http, spotify_sandbox.api_url + "/me", headers)
    spotify_sandbox.faults.clear()
    second = await get(sandbox_http, spotify_sandbox.api_url + "/me", headers)

    assert first[0:2] == (502, {"error": {"status": 502, "message": "Server error"}})
    assert second[0] == 200


async def test_faults_can_target_the_token_endpoint(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    spotify_sandbox.faults.server_error()
    spotify_sandbox.faults.server_error(path="/api/token")

    async with sandbox_http.post(
        spotify_sandbox.accounts_url + "/api/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": aiohttp.encode_basic_auth("sandbox-client", "sandbox-secret")},
    ) as response:
        assert response.status == 503
    status, _, _ = await get(sandbox_http, spotify_sandbox.api_url + "/me", bearer(spotify_sandbox))
    assert status == 503


async def test_latency_delays_answers(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    spotify_sandbox.faults.latency(0.2, path="/me")
    started = time.monotonic()

    status, _, _ = await get(sandbox_http, spotify_sandbox.api_url + "/me", bearer(spotify_sandbox))

    assert status == 200
    assert time.monotonic() - started >= 0.2


# Images


async def test_images_are_generated_pngs(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    album_id = spotify_sandbox.album_ids()[0]
    _, album, _ = await get(
        sandbox_http, f"{spotify_sandbox.api_url}/albums/{album_id}", bearer(spotify_sandbox)
    )
    pictures = []
    for image in album["images"]:
        async with sandbox_http.get(image["url"]) as response:
            assert (response.status, response.content_type) == (200, "image/png")
            pictures.append(await response.read())
    async with sandbox_http.get(album["images"][0]["url"]) as response:
        again = await response.read()
    async with sandbox_http.get(f"{spotify_sandbox.base_url}/images/x.png?size=5000") as response:
        too_big = response.status

    assert all(picture.startswith(b"\x89PNG") for picture in pictures)
    assert pictures[0] == again and pictures[0] != pictures[1]
    assert too_big == 400


async def test_fixture_sandboxes_are_independent(make_spotify_sandbox: SandboxFactory) -> None:
    one = await make_spotify_sandbox()
    two = await make_spotify_sandbox(seed=1, users=2)

    one.users["user0"].library.clear()

    assert one.base_url != two.base_url
    assert len(two.users) == 2 and two.users["user0"].library
