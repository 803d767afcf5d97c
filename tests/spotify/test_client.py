from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.spotify.client import SpotifyClient
from bot.spotify.errors import (
    BadRequest,
    Forbidden,
    InvalidGrant,
    MissingScope,
    NotAllowListed,
    NotFound,
    QuotaExceeded,
    RateLimited,
    SpotifyError,
    SpotifyUnavailable,
    Unauthorized,
)
from bot.spotify.oauth import SCOPES, SpotifyOAuth
from tests.helpers import spotify_samples as samples
from tests.spotify.conftest import FakeSpotify, FakeTokens, Reply, error_body

MakeClient = Callable[..., SpotifyClient]


# --- 429 and the shared cooldown ---------------------------------------------------------


async def test_retry_after_holds_back_every_member(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    rate_limited = asyncio.Event()

    def on_response(method: str, path: str, status: int | None, seconds: float) -> None:
        if status == 429:
            rate_limited.set()

    client = make_client(on_response=on_response)
    fake.json_route("GET", "/v1/me/top/artists", samples.page([samples.artist(1)]))
    fake.queue("GET", "/v1/me", Reply(429, error_body(429), {"Retry-After": "2"}))
    first = asyncio.create_task(client.user(FakeTokens(oauth, "a")).me())
    await rate_limited.wait()
    other = client.user(FakeTokens(oauth, "b"), interactive=False)

    await asyncio.gather(first, other.me(), other.top_artists())

    limited, *after = fake.requests
    assert len(after) == 3
    assert all(r.at - limited.at >= 2 for r in after)


async def test_long_retry_after_raises_at_once_for_interactive_calls(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    client = make_client()
    fake.queue("GET", "/v1/me", Reply(429, error_body(429), {"Retry-After": "3600"}))

    with pytest.raises(RateLimited) as caught:
        await asyncio.wait_for(client.user(FakeTokens(oauth, "a")).me(), timeout=5)

    assert caught.value.retry_after == pytest.approx(3600, abs=1)
    assert len(fake.requests) == 1


async def test_cooldown_longer_than_the_cap_refuses_without_sending(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    client = make_client()
    fake.queue("GET", "/v1/me", Reply(429, error_body(429), {"Retry-After": "3600"}))
    with pytest.raises(RateLimited):
        await client.user(FakeTokens(oauth, "a")).me()

    background = client.user(FakeTokens(oauth, "b"), interactive=False)
    with pytest.raises(RateLimited) as caught:
        await asyncio.wait_for(background.saved_tracks(), timeout=5)

    assert caught.value.retry_after == pytest.approx(3600, abs=5)
    assert client.cooldown_remaining() == pytest.approx(3600, abs=5)
    assert len(fake.requests) == 1


async def test_quota_exceeded(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    client = make_client()
    body = error_body(429, "quota", reason="QUOTA_EXCEEDED")
    fake.queue("GET", "/v1/me", Reply(429, body, {"Retry-After": "1"}))

    with pytest.raises(QuotaExceeded) as caught:
        await client.user(tokens).me()

    assert caught.value.reason == "QUOTA_EXCEEDED"
    assert caught.value.retry_after == 1
    assert len(fake.requests) == 1
    assert client.cooldown_remaining() > 0


async def test_repeated_short_rate_limits_are_bounded(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    client = make_client(max_retries=2)
    limited = Reply(429, error_body(429), {"Retry-After": "0"})
    fake.queue("GET", "/v1/me", limited, limited, limited, limited)

    with pytest.raises(RateLimited):
        await client.user(tokens).me()

    assert len(fake.requests) == 3


# --- transient failures --------------------------------------------------------------------


async def test_server_errors_are_retried_until_success(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.queue("GET", "/v1/me", Reply(503, error_body(503)), Reply(500, error_body(500)))

    me = await make_client().user(tokens).me()

    assert me.id == "user0"
    assert len(fake.requests) == 3


async def test_server_errors_past_the_retries_raise_unavailable(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.queue("GET", "/v1/me", *[Reply(502, error_body(502))] * 5)

    with pytest.raises(SpotifyUnavailable) as caught:
        await make_client(max_retries=3).user(tokens).me()

    assert caught.value.status == 502
    assert len(fake.requests) == 4


async def test_timeouts_are_retried_then_raise_unavailable(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    seen: list[tuple[str, str, int | None]] = []
    client = make_client(
        timeout=0.1, max_retries=1, on_response=lambda m, p, s, _: seen.append((m, p, s))
    )
    slow = Reply(200, samples.private_user(), delay=0.4)
    fake.queue("GET", "/v1/me", slow, slow)

    with pytest.raises(SpotifyUnavailable):
        await client.user(tokens).me()

    assert seen == [("GET", "/me", None), ("GET", "/me", None)]


async def test_a_timeout_then_success(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.queue("GET", "/v1/me", Reply(200, samples.private_user(), delay=0.4))

    me = await make_client(timeout=0.1).user(tokens).me()

    assert me.id == "user0"
    assert len(fake.requests) == 2


async def test_connection_errors_raise_unavailable(
    session: aiohttp.ClientSession, tokens: FakeTokens
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = SpotifyClient(
        session, api_url=f"http://127.0.0.1:{port}/v1", max_retries=2, backoff_base=0.01
    )

    with pytest.raises(SpotifyUnavailable):
        await client.user(tokens).me()


# --- tokens --------------------------------------------------------------------------------


async def test_concurrent_calls_with_an_expired_token_refresh_once(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    tokens = FakeTokens(oauth, expires_in=-60)
    api = make_client().user(tokens)

    users = await asyncio.gather(*(api.me() for _ in range(10)))

    assert [u.id for u in users] == ["user0"] * 10
    assert len(fake.token_requests) == 1
    assert {r.authorization for r in fake.to("GET", "/v1/me")} == {"Bearer access-1"}


async def test_a_token_about_to_expire_is_refreshed_first(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    tokens = FakeTokens(oauth, expires_in=10)

    await make_client().user(tokens).me()

    assert len(fake.token_requests) == 1
    assert fake.to("GET", "/v1/me")[0].authorization == "Bearer access-1"


async def test_a_revoked_refresh_token_raises_invalid_grant_once(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    fake.revoked = True
    api = make_client().user(FakeTokens(oauth, expires_in=-60))

    results = await asyncio.gather(*(api.me() for _ in range(3)), return_exceptions=True)

    assert all(isinstance(r, InvalidGrant) for r in results)
    assert len(fake.token_requests) == 1
    assert fake.to("GET", "/v1/me") == []


async def test_a_401_refreshes_once_and_retries(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.queue("GET", "/v1/me", Reply(401, error_body(401, "The access token expired")))

    me = await make_client().user(tokens).me()

    assert me.id == "user0"
    assert len(fake.token_requests) == 1
    assert [r.authorization for r in fake.to("GET", "/v1/me")] == [
        "Bearer access-0",
        "Bearer access-1",
    ]


async def test_a_second_401_raises_unauthorized(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.queue("GET", "/v1/me", *[Reply(401, error_body(401))] * 3)

    with pytest.raises(Unauthorized):
        await make_client().user(tokens).me()

    assert len(fake.token_requests) == 1
    assert len(fake.to("GET", "/v1/me")) == 2


async def test_a_401_with_revoked_grant_is_not_retried(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.revoked = True
    fake.queue("GET", "/v1/me", Reply(401, error_body(401)))

    with pytest.raises(InvalidGrant):
        await make_client().user(tokens).me()

    assert len(fake.token_requests) == 1
    assert len(fake.to("GET", "/v1/me")) == 1


# --- 4xx classification --------------------------------------------------------------------

DEV_MODE_403 = error_body(403, "User not registered in the Developer Dashboard")


async def test_403_on_me_means_not_allow_listed(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.queue("GET", "/v1/me", Reply(403, DEV_MODE_403))

    with pytest.raises(NotAllowListed) as caught:
        await make_client().user(tokens).me()

    assert caught.value.status == 403
    assert "Developer Dashboard" in (caught.value.body or "")


async def test_403_without_the_needed_scope_is_missing_scope(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    tokens = FakeTokens(oauth, scopes=frozenset(SCOPES) - {"user-top-read"})
    fake.queue("GET", "/v1/me/top/artists", Reply(403, error_body(403, "Insufficient scope")))

    with pytest.raises(MissingScope) as caught:
        await make_client().user(tokens).top_artists()

    assert caught.value.scopes == ("user-top-read",)


async def test_403_on_follow_without_follow_scope_is_missing_scope(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    tokens = FakeTokens(oauth, scopes=frozenset({"user-library-modify"}))
    fake.queue("PUT", "/v1/me/library", Reply(403, error_body(403)))
    uris = [f"spotify:artist:{samples.sid(1)}", f"spotify:track:{samples.sid(2)}"]

    with pytest.raises(MissingScope) as caught:
        await make_client().user(tokens).save(uris)

    assert caught.value.scopes == ("user-follow-modify",)


@pytest.mark.parametrize("scopes", [frozenset(SCOPES), None])
async def test_other_403s_are_forbidden(
    fake: FakeSpotify,
    make_client: MakeClient,
    oauth: SpotifyOAuth,
    scopes: frozenset[str] | None,
) -> None:
    fake.queue("GET", "/v1/me/tracks", Reply(403, error_body(403, "Forbidden")))

    with pytest.raises(Forbidden):
        await make_client().user(FakeTokens(oauth, scopes=scopes)).saved_tracks()


async def test_a_403_reason_is_used_before_anything_else(
    fake: FakeSpotify, make_client: MakeClient, oauth: SpotifyOAuth
) -> None:
    tokens = FakeTokens(oauth, scopes=frozenset())
    fake.queue("GET", "/v1/me/top/tracks", Reply(403, error_body(403, "x", "PREMIUM_REQUIRED")))

    with pytest.raises(Forbidden) as caught:
        await make_client().user(tokens).top_tracks()

    assert type(caught.value) is Forbidden
    assert caught.value.reason == "PREMIUM_REQUIRED"


@pytest.mark.parametrize(
    ("status", "error"), [(400, BadRequest), (404, NotFound), (418, SpotifyError)]
)
async def test_other_statuses(
    fake: FakeSpotify,
    make_client: MakeClient,
    tokens: FakeTokens,
    status: int,
    error: type[SpotifyError],
) -> None:
    fake.queue("GET", f"/v1/tracks/{samples.sid(1)}", Reply(status, error_body(status, "no")))

    with pytest.raises(error) as caught:
        await make_client().user(tokens).track(samples.sid(1))

    assert type(caught.value) is error
    assert caught.value.status == status
    assert len(fake.requests) == 1


# --- endpoints -----------------------------------------------------------------------------


async def test_library_writes_go_to_me_library_in_chunks_of_40(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    for method in ("PUT", "DELETE"):
        fake.queue(method, "/v1/me/library", *[Reply(200)] * 3)
    uris = [f"spotify:track:{samples.sid(n)}" for n in range(85)]
    api = make_client().user(tokens)

    await api.save(uris)
    await api.remove(uris[:3])

    saves = fake.to("PUT", "/v1/me/library")
    assert [len(r.query["uris"].split(",")) for r in saves] == [40, 40, 5]
    assert [u for r in saves for u in r.query["uris"].split(",")] == uris
    assert all(r.body is None for r in saves)
    assert fake.to("DELETE", "/v1/me/library")[0].query["uris"] == ",".join(uris[:3])
    assert [r.path for r in fake.requests] == ["/v1/me/library"] * 4


async def test_contains_checks_in_chunks_and_keeps_order(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    async def contains(request: web.Request) -> web.Response:
        uris = request.query["uris"].split(",")
        return web.json_response([uri.endswith("1") for uri in uris])

    fake.route("GET", "/v1/me/library/contains", contains)
    uris = [f"spotify:album:{n}".ljust(36, "0") + str(n % 2) for n in range(45)]

    found = await make_client().user(tokens).contains(uris)

    assert found == [n % 2 == 1 for n in range(45)]
    assert len(fake.requests) == 2
    assert await make_client().user(tokens).contains([]) == []
    assert len(fake.requests) == 2


async def test_playlist_items_are_added_in_chunks_of_100(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    playlist_id = samples.sid(7, "pl")
    path = f"/v1/playlists/{playlist_id}/items"
    fake.queue("POST", path, *[Reply(201, {"snapshot_id": f"snap-{n}"}) for n in range(3)])
    uris = [f"spotify:track:{samples.sid(n)}" for n in range(250)]

    snapshot = await make_client().user(tokens).add_playlist_items(playlist_id, uris)

    posts = fake.to("POST", path)
    assert [len(r.body["uris"]) for r in posts] == [100, 100, 50]
    assert [u for r in posts for u in r.body["uris"]] == uris
    assert snapshot == "snap-2"


async def test_create_playlist(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    created = {**samples.simple_playlist(0), "public": False, "description": "Our favourites"}
    fake.json_route("POST", "/v1/me/playlists", created, status=201)

    playlist = (
        await make_client()
        .user(tokens)
        .create_playlist("Server favourites", description="Our favourites")
    )

    assert playlist.id == created["id"]
    assert fake.requests[0].body == {
        "name": "Server favourites",
        "description": "Our favourites",
        "public": False,
    }


@pytest.mark.parametrize(("asked", "sent"), [(50, "10"), (0, "1"), (7, "7")])
async def test_search_limit_is_clamped_to_1_to_10(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens, asked: int, sent: str
) -> None:
    fake.json_route(
        "GET", "/v1/search", {"tracks": samples.page([samples.track(1)], limit=int(sent))}
    )

    results = await make_client().user(tokens).search("doxy", ["track", "album"], limit=asked)

    assert fake.requests[0].query == {
        "q": "doxy",
        "type": "track,album",
        "limit": sent,
        "offset": "0",
    }
    assert results.tracks is not None
    assert results.tracks.items[0].name == "Track 1"
    assert results.albums is None


async def test_top_items_send_range_and_clamped_limit(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.json_route("GET", "/v1/me/top/tracks", samples.page([samples.track(1)]))
    api = make_client().user(tokens)

    page = await api.top_tracks("short_term", limit=80, offset=3)

    assert fake.requests[0].query == {"time_range": "short_term", "limit": "50", "offset": "3"}
    assert page.items[0].album is not None
    with pytest.raises(ValueError, match="time_range"):
        await api.top_artists("forever")


async def test_followed_artists_use_the_cursor(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    body = {"artists": samples.cursor_page([samples.artist(1)], after=samples.sid(1, "ar"))}
    fake.json_route("GET", "/v1/me/following", body)

    page = await make_client().user(tokens).followed_artists(limit=20, after="abc")

    assert fake.requests[0].query == {"type": "artist", "limit": "20", "after": "abc"}
    assert page.cursors.after == samples.sid(1, "ar")
    assert page.items[0].name == "Artist 1"


@pytest.mark.parametrize(
    ("method", "collection", "sample"),
    [
        ("track", "tracks", samples.track(1)),
        ("album", "albums", samples.album(1)),
        ("artist", "artists", samples.artist(1)),
        ("show", "shows", samples.show(1)),
        ("episode", "episodes", samples.episode(1)),
        ("audiobook", "audiobooks", samples.audiobook(1)),
        ("playlist", "playlists", samples.simple_playlist(1)),
    ],
)
async def test_single_items(
    fake: FakeSpotify,
    make_client: MakeClient,
    tokens: FakeTokens,
    method: str,
    collection: str,
    sample: dict[str, Any],
) -> None:
    fake.json_route("GET", f"/v1/{collection}/{sample['id']}", sample)

    item = await getattr(make_client().user(tokens), method)(sample["id"])

    assert (item.id, item.name, item.uri) == (sample["id"], sample["name"], sample["uri"])


async def test_unexpected_shapes_raise_spotify_error(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    fake.json_route("GET", "/v1/me/tracks", {"items": "nope"})

    with pytest.raises(SpotifyError, match="unexpected answer"):
        await make_client().user(tokens).saved_tracks()


async def test_iterators_page_through_the_library(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    saved = [{"added_at": "2024-05-01T10:00:00Z", "track": samples.track(n)} for n in range(120)]

    async def saved_tracks(request: web.Request) -> web.Response:
        offset, limit = int(request.query["offset"]), int(request.query["limit"])
        items = saved[offset : offset + limit]
        more = offset + limit < len(saved)
        body = samples.page(items, total=len(saved), offset=offset, limit=limit, has_next=more)
        return web.json_response(body)

    fake.route("GET", "/v1/me/tracks", saved_tracks)

    tracks = [s.track.id async for s in make_client().user(tokens).iter_saved_tracks(75)]

    assert tracks == [samples.sid(n, "tr") for n in range(75)]
    assert [(r.query["offset"], r.query["limit"]) for r in fake.requests] == [
        ("0", "50"),
        ("50", "25"),
    ]


async def test_the_response_hook_sees_every_attempt(
    fake: FakeSpotify, make_client: MakeClient, tokens: FakeTokens
) -> None:
    seen: list[tuple[str, str, int | None]] = []
    client = make_client(on_response=lambda m, p, s, secs: seen.append((m, p, s)))
    fake.queue("GET", f"/v1/albums/{samples.sid(1, 'al')}", Reply(503, error_body(503)))
    fake.json_route("GET", f"/v1/albums/{samples.sid(1, 'al')}", samples.album(1))

    await client.user(tokens).album(samples.sid(1, "al"))

    assert seen == [("GET", "/albums/{id}", 503), ("GET", "/albums/{id}", 200)]
