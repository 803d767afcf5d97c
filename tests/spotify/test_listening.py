"""Listening through the client: currently-playing, recently-played with its cursor, and the
app token (client-credentials grant) reading single tracks. Against the sandbox, whose fixture
checks every exchange against the OpenAPI description, and the scripted FakeSpotify."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.spotify.client import AppTokens, SpotifyClient
from bot.spotify.errors import Forbidden, MissingScope, RateLimited
from bot.spotify.models import epoch_ms
from bot.spotify.oauth import SpotifyOAuth
from bot.spotify.scopes import LISTENING_SCOPES, SCOPES
from sandbox import population
from sandbox.spotify import SpotifySandbox
from tests.helpers import spotify_samples as samples
from tests.spotify.conftest import FakeSpotify, FakeTokens, Reply, error_body
from tests.spotify.test_client_sandbox import REDIRECT_URI, member

START = datetime(2026, 5, 1, 18, 0, 0, 500_000, tzinfo=UTC)
BEFORE_LISTENING = tuple(scope for scope in SCOPES if scope not in LISTENING_SCOPES)


@pytest.fixture
def sandbox_oauth(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> SpotifyOAuth:
    return population.sandbox_oauth(spotify_sandbox, sandbox_http, REDIRECT_URI)


@pytest.fixture
def client(spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession) -> SpotifyClient:
    return SpotifyClient(sandbox_http, api_url=spotify_sandbox.api_url, backoff_base=0.01)


def listener(
    sandbox: SpotifySandbox, oauth: SpotifyOAuth, scopes: tuple[str, ...] = SCOPES
) -> FakeTokens:
    return member(sandbox, oauth, "user0", scopes)


def script_plays(sandbox: SpotifySandbox, count: int) -> list[str]:
    tracks = sandbox.track_ids()[:count]
    for n, track_id in enumerate(tracks):
        sandbox.play("user0", track_id, START + timedelta(minutes=4 * n))
    return tracks


async def test_currently_playing_is_a_typed_track_or_none(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    api = client.user(listener(spotify_sandbox, sandbox_oauth))
    track_id = spotify_sandbox.track_ids()[4]
    album = spotify_sandbox.album_ids()[0]

    idle = await api.currently_playing()
    spotify_sandbox.set_currently_playing(
        "user0", track_id, progress_ms=61_000, context_uri=f"spotify:album:{album}"
    )
    playing = await api.currently_playing()

    assert idle is None
    assert playing is not None and playing.item is not None
    assert playing.item.id == track_id
    assert playing.item.album is not None and playing.item.artists
    assert playing.is_playing and playing.progress_ms is not None and playing.progress_ms >= 61_000
    assert playing.context is not None and playing.context.uri == f"spotify:album:{album}"


async def test_recently_played_from_a_cursor_is_oldest_first_with_the_next_cursor(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    api = client.user(listener(spotify_sandbox, sandbox_oauth))
    tracks = script_plays(spotify_sandbox, 12)
    cursor = epoch_ms(START + timedelta(minutes=4 * 4))

    newest = await api.recently_played(limit=5)
    later = await api.recently_played(after_ms=cursor)
    nothing_new = await api.recently_played(after_ms=later.cursor_ms)

    assert [p.track.id for p in newest.plays] == tracks[7:]
    assert [p.track.id for p in later.plays] == tracks[5:]
    assert later.plays[0].played_at == START + timedelta(minutes=20)
    assert later.cursor_ms == epoch_ms(START + timedelta(minutes=44))
    assert (nothing_new.plays, nothing_new.cursor_ms) == ([], later.cursor_ms)


async def test_small_pages_walk_forward_within_the_page_bound(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    api = client.user(listener(spotify_sandbox, sandbox_oauth))
    tracks = script_plays(spotify_sandbox, 30)
    cursor = epoch_ms(START - timedelta(minutes=1))

    every = await api.recently_played(after_ms=cursor, limit=10)
    walked = len(spotify_sandbox.requests_to("/me/player/recently-played"))
    bounded = await api.recently_played(after_ms=cursor, limit=4, max_pages=2)

    assert [p.track.id for p in every.plays] == tracks
    assert walked == 3  # the third page says there is no next
    assert [p.track.id for p in bounded.plays] == tracks[:8]
    assert bounded.cursor_ms == epoch_ms(START + timedelta(minutes=28))


async def test_members_linked_before_the_listening_scopes_are_told_to_link_again(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    api = client.user(listener(spotify_sandbox, sandbox_oauth, BEFORE_LISTENING))

    with pytest.raises(MissingScope) as recent:
        await api.recently_played(after_ms=0)
    with pytest.raises(MissingScope) as now:
        await api.currently_playing()

    assert recent.value.scopes == ("user-read-recently-played",)
    assert now.value.scopes == ("user-read-currently-playing",)


async def test_a_long_rate_limit_is_not_waited_out_by_a_poll(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    api = client.user(listener(spotify_sandbox, sandbox_oauth), interactive=True)
    spotify_sandbox.faults.rate_limit(600, path="/me/player/recently-played")

    with pytest.raises(RateLimited):
        await api.recently_played(after_ms=0)
    with pytest.raises(RateLimited):
        await api.currently_playing()

    assert len(spotify_sandbox.requests_to("/me/player")) == 1
    assert client.cooldown_remaining() > 500


# The app token


async def test_the_app_reads_a_track_with_its_artist_and_album_ids(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    calls: list[tuple[str, int | None]] = []
    client.on_response = lambda method, template, status, seconds: calls.append((template, status))
    app = client.app(AppTokens(sandbox_oauth))
    first, second = spotify_sandbox.track_ids()[:2]
    expected = spotify_sandbox.catalog.tracks[first]

    track = await app.track(first)
    await app.track(second)

    assert track.album is not None and track.album.id == expected.album_id
    assert tuple(a.id for a in track.artists) == expected.artist_ids
    assert calls == [("/tracks/{id}", 200), ("/tracks/{id}", 200)]
    assert len(spotify_sandbox.requests_to("/api/token")) == 1


async def test_the_app_token_is_fetched_once_for_concurrent_callers(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth
) -> None:
    tokens = await asyncio.gather(*(sandbox_oauth.app_token() for _ in range(5)))

    assert len({token.access_token for token in tokens}) == 1
    assert len(spotify_sandbox.requests_to("/api/token")) == 1
    assert tokens[0].expires_at > datetime.now(UTC) + timedelta(minutes=59)


async def test_the_apps_calls_wait_out_a_short_rate_limit(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    spotify_sandbox.faults.rate_limit(0.05, path="/tracks")
    app = client.app(AppTokens(sandbox_oauth))

    track = await app.track(spotify_sandbox.track_ids()[0])

    assert track.id == spotify_sandbox.track_ids()[0]
    assert [r.status for r in spotify_sandbox.requests_to("/tracks")] == [429, 200]


APP_TOKEN = {"access_token": "app-1", "token_type": "Bearer", "expires_in": 3600}


async def test_an_app_token_close_to_expiry_or_refused_is_replaced(
    fake: FakeSpotify, oauth: SpotifyOAuth, make_client: Callable[..., SpotifyClient]
) -> None:
    fake.queue(
        "POST",
        "/api/token",
        Reply(200, {**APP_TOKEN, "expires_in": 30}),
        Reply(200, APP_TOKEN),
        Reply(200, {**APP_TOKEN, "access_token": "app-2"}),
    )
    fake.queue("GET", "/v1/tracks/abc", Reply(401, error_body(401, "Invalid access token")))
    fake.json_route("GET", "/v1/tracks/abc", samples.track(1))
    fake.queue("GET", "/v1/tracks/def", Reply(403, error_body(403, "Forbidden")))
    app = make_client().app(AppTokens(oauth))

    short_lived = await oauth.app_token()
    await app.track("abc")
    with pytest.raises(Forbidden):
        await app.track("def")

    assert short_lived.access_token == "app-1"
    assert [r.body for r in fake.token_requests] == [{"grant_type": "client_credentials"}] * 3
    assert [r.authorization for r in fake.to("GET", "/v1/tracks/abc")] == [
        "Bearer app-1",
        "Bearer app-2",
    ]
    assert fake.to("GET", "/v1/me") == []
