"""The sandbox's listening endpoints (`/me/player/currently-playing`, `/me/player/recently-played`)
and the app token: the shapes of Spotify's OpenAPI description and the service's behaviour."""

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from sandbox.openapi_check import SpotifyOpenApi
from sandbox.spotify import SpotifySandbox
from tests.contract.test_web_api import Call, send
from tests.helpers.spotify_sandbox import bearer

START = datetime(2026, 5, 1, 18, 0, 0, 125_000, tzinfo=UTC)
NOW_PLAYING = Call("GET", "/me/player/currently-playing")


def recent(**params: Any) -> Call:
    return Call("GET", "/me/player/recently-played", {k: str(v) for k, v in params.items()})


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def script_plays(sandbox: SpotifySandbox, count: int, user_id: str = "user0") -> list[str]:
    """`count` plays three minutes apart from START; returns their track ids, oldest first."""
    tracks = sandbox.track_ids()[:count]
    for n, track_id in enumerate(tracks):
        sandbox.play(user_id, track_id, START + timedelta(minutes=3 * n))
    return tracks


async def test_currently_playing_shows_the_track_and_its_progress(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
) -> None:
    track_id = spotify_sandbox.track_ids()[5]
    playlist = spotify_sandbox.playlist_ids()[0]
    spotify_sandbox.set_currently_playing(
        "user0", track_id, progress_ms=30_000, context_uri=f"spotify:playlist:{playlist}"
    )
    before = ms(datetime.now(UTC))

    status, playing = await send(spotify_sandbox, sandbox_http, NOW_PLAYING)
    spotify_sandbox.set_currently_playing("user0", track_id, progress_ms=12_345, is_playing=False)
    _, paused = await send(spotify_sandbox, sandbox_http, NOW_PLAYING)

    assert status == 200
    assert playing["item"]["id"] == track_id and playing["item"]["type"] == "track"
    assert playing["currently_playing_type"] == "track" and playing["is_playing"] is True
    assert 30_000 <= playing["progress_ms"] < 40_000
    assert playing["timestamp"] >= before
    assert playing["context"]["uri"] == f"spotify:playlist:{playlist}"
    assert (paused["is_playing"], paused["progress_ms"], paused["context"]) == (False, 12_345, None)
    assert spotify_openapi.check(spotify_sandbox.requests) == []


async def test_nothing_playing_is_204(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
) -> None:
    spotify_sandbox.set_currently_playing("user0", spotify_sandbox.track_ids()[0])
    spotify_sandbox.clear_currently_playing("user0")

    status, body = await send(spotify_sandbox, sandbox_http, NOW_PLAYING)
    never, _ = await send(
        spotify_sandbox, sandbox_http, NOW_PLAYING, bearer(spotify_sandbox, "user1")
    )

    assert (status, body, never) == (204, None, 204)
    assert spotify_openapi.check(spotify_sandbox.requests) == []


async def test_recently_played_keeps_the_last_50_newest_first(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
) -> None:
    tracks = script_plays(spotify_sandbox, 60)

    status, default = await send(spotify_sandbox, sandbox_http, recent())
    _, everything = await send(spotify_sandbox, sandbox_http, recent(limit=50))

    assert status == 200
    assert [item["track"]["id"] for item in default["items"]] == tracks[::-1][:20]
    assert [item["track"]["id"] for item in everything["items"]] == tracks[::-1][:50]
    assert "next" not in everything
    newest, oldest = START + timedelta(minutes=3 * 59), START + timedelta(minutes=3 * 10)
    assert everything["items"][0]["played_at"] == newest.strftime("%Y-%m-%dT%H:%M:%S.125Z")
    assert everything["items"][0]["context"] is None
    assert everything["cursors"] == {"after": str(ms(newest)), "before": str(ms(oldest))}
    assert len(spotify_sandbox.recent_plays("user0")) == 50
    assert spotify_openapi.check(spotify_sandbox.requests) == []


async def test_before_walks_back_and_after_walks_forward_without_gaps(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
) -> None:
    tracks = script_plays(spotify_sandbox, 30)
    headers = bearer(spotify_sandbox)

    async def walk(url: str | None) -> list[str]:
        seen: list[str] = []
        while url:
            async with sandbox_http.get(url, headers=headers) as response:
                page = await response.json()
            seen += [item["track"]["id"] for item in page["items"]]
            url = page.get("next")
        return seen

    back = await walk(spotify_sandbox.api_url + "/me/player/recently-played?limit=7")
    cursor = ms(START + timedelta(minutes=3 * 9))
    forward = await walk(
        spotify_sandbox.api_url + f"/me/player/recently-played?after={cursor}&limit=8"
    )
    _, closest = await send(spotify_sandbox, sandbox_http, recent(after=cursor, limit=8))

    assert back == tracks[::-1]
    assert sorted(forward) == sorted(tracks[10:]) and len(forward) == 20
    assert [item["track"]["id"] for item in closest["items"]] == tracks[10:18][::-1]
    assert closest["cursors"]["after"] == str(ms(START + timedelta(minutes=3 * 17)))
    assert spotify_openapi.check(spotify_sandbox.requests) == []


async def test_recently_played_refuses_bad_requests(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
) -> None:
    no_scope = bearer(spotify_sandbox, scopes=("user-top-read",))

    statuses = [
        (await send(spotify_sandbox, sandbox_http, call, headers))[0]
        for call, headers in [
            (recent(limit=51), None),
            (recent(limit=0), None),
            (recent(after=1, before=2), None),
            (recent(after="yesterday"), None),
            (recent(), no_scope),
            (NOW_PLAYING, no_scope),
        ]
    ]

    assert statuses == [400, 400, 400, 400, 403, 403]
    assert spotify_openapi.check(spotify_sandbox.requests) == []


async def test_faults_apply_to_the_listening_endpoints(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
) -> None:
    spotify_sandbox.add_user("outsider", allow_listed=False)
    spotify_sandbox.faults.rate_limit(30, path="/me/player/recently-played")
    spotify_sandbox.faults.server_error(path="/me/player/currently-playing")

    limited = await send(spotify_sandbox, sandbox_http, recent())
    broken = await send(spotify_sandbox, sandbox_http, NOW_PLAYING)
    outsider = await send(
        spotify_sandbox, sandbox_http, recent(), bearer(spotify_sandbox, "outsider")
    )
    revoked_headers = bearer(spotify_sandbox, "user2")
    spotify_sandbox.revoke("user2")
    revoked = await send(spotify_sandbox, sandbox_http, NOW_PLAYING, revoked_headers)

    assert [limited[0], broken[0], outsider[0], revoked[0]] == [429, 503, 403, 401]
    assert spotify_sandbox.requests_to("/me/player/recently-played")[0].headers == {
        "Retry-After": "30"
    }
    assert spotify_openapi.check(spotify_sandbox.requests) == []


async def test_an_app_token_reads_tracks_but_not_listening(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
) -> None:
    async with sandbox_http.post(
        spotify_sandbox.accounts_url + "/api/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": aiohttp.encode_basic_auth("sandbox-client", "sandbox-secret")},
    ) as response:
        granted = await response.json()
    app = {"Authorization": f"Bearer {granted['access_token']}"}
    track_id = spotify_sandbox.track_ids()[3]

    track = await send(spotify_sandbox, sandbox_http, Call("GET", f"/tracks/{track_id}"), app)
    listening = [
        (await send(spotify_sandbox, sandbox_http, call, app))[0]
        for call in (NOW_PLAYING, recent())
    ]

    assert "refresh_token" not in granted and "scope" not in granted
    assert track[0] == 200 and track[1]["album"]["id"]
    assert listening == [403, 403]
    assert spotify_openapi.check(spotify_sandbox.requests) == []


async def test_presence_track_matches_the_catalog(spotify_sandbox: SpotifySandbox) -> None:
    track_id = spotify_sandbox.track_ids()[7]
    track = spotify_sandbox.catalog.tracks[track_id]

    shown = spotify_sandbox.presence_track(track_id)

    assert (shown.id, shown.title, shown.duration_ms) == (track_id, track.name, track.duration_ms)
    assert shown.album == spotify_sandbox.catalog.albums[track.album_id].name
    assert shown.artists == tuple(spotify_sandbox.catalog.artists[a].name for a in track.artist_ids)
