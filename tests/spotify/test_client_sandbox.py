"""The client against the Spotify sandbox, whose fixture checks every exchange against the spec."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.spotify.client import SpotifyClient, SpotifyUserApi
from bot.spotify.errors import InvalidGrant, MissingScope, NotAllowListed, RateLimited
from bot.spotify.oauth import SCOPES, SpotifyOAuth, new_pkce, new_state
from sandbox import population
from sandbox.browser import consent
from sandbox.spotify import SpotifySandbox
from tests.spotify.conftest import FakeTokens

REDIRECT_URI = "http://127.0.0.1:8080/callback"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def sandbox_oauth(spotify_sandbox: SpotifySandbox, http: aiohttp.ClientSession) -> SpotifyOAuth:
    return population.sandbox_oauth(spotify_sandbox, http, REDIRECT_URI)


@pytest.fixture
def client(spotify_sandbox: SpotifySandbox, http: aiohttp.ClientSession) -> SpotifyClient:
    return SpotifyClient(http, api_url=spotify_sandbox.api_url, backoff_base=0.01)


def member(
    sandbox: SpotifySandbox,
    oauth: SpotifyOAuth,
    user_id: str = "user0",
    scopes: tuple[str, ...] = SCOPES,
) -> FakeTokens:
    issued = sandbox.issue_tokens(user_id, scopes=scopes)
    return FakeTokens(
        oauth,
        user_id,
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        scopes=frozenset(scopes),
    )


def api_for(
    sandbox: SpotifySandbox, oauth: SpotifyOAuth, client: SpotifyClient, user_id: str = "user0"
) -> SpotifyUserApi:
    return client.user(member(sandbox, oauth, user_id))


async def test_link_flow(
    spotify_sandbox: SpotifySandbox,
    sandbox_oauth: SpotifyOAuth,
    client: SpotifyClient,
    http: aiohttp.ClientSession,
) -> None:
    state, pkce = new_state(), new_pkce()
    spotify_sandbox.authorizing_user = "user3"

    location = urlsplit(await consent(http, sandbox_oauth.authorize_url(state, pkce.challenge)))
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["state"] == state
    tokens = await sandbox_oauth.exchange_code(query["code"], pkce.verifier)
    provider = FakeTokens(
        sandbox_oauth,
        "user3",
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        scopes=frozenset(tokens.scopes),
    )

    me = await client.user(provider).me()

    assert set(tokens.scopes) == set(SCOPES)
    assert me.id == "user3"
    assert me.link_id == spotify_sandbox.users["user3"].account_id


async def test_reads_match_the_members_data(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    user = spotify_sandbox.users["user1"]
    api = api_for(spotify_sandbox, sandbox_oauth, client, "user1")

    top = [a.id async for a in api.iter_top_artists("short_term", max_items=50)]
    saved = {s.track.uri async for s in api.iter_saved_tracks(max_items=1000)}
    followed = {a.uri async for a in api.iter_followed_artists(max_items=1000)}
    playlists = [p async for p in api.iter_playlists(max_items=1000)]

    assert top == user.top_artists["short_term"]
    assert saved == {uri for uri in user.library if uri.startswith("spotify:track:")}
    assert followed == {uri for uri in user.library if uri.startswith("spotify:artist:")}
    assert {p.id for p in playlists} >= set(user.playlists)
    assert all(p.total_items is not None for p in playlists)


async def test_every_saved_kind(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    user = spotify_sandbox.users["user1"]
    api = api_for(spotify_sandbox, sandbox_oauth, client, "user1")

    saved = {
        "album": {s.album.uri async for s in api.iter_saved_albums()},
        "show": {s.show.uri async for s in api.iter_saved_shows()},
        "episode": {s.episode.uri async for s in api.iter_saved_episodes()},
        "audiobook": {s.audiobook.uri async for s in api.iter_saved_audiobooks()},
    }

    for kind, uris in saved.items():
        assert uris == {uri for uri in user.library if uri.startswith(f"spotify:{kind}:")}


async def test_library_writes_and_checks(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    user = spotify_sandbox.users["user2"]
    api = api_for(spotify_sandbox, sandbox_oauth, client, "user2")
    new = [
        f"spotify:track:{i}"
        for i in spotify_sandbox.track_ids()
        if f"spotify:track:{i}" not in user.library
    ][:45]

    await api.save(new)
    assert await api.contains(new) == [True] * 45
    await api.remove(new)

    assert await api.contains(new) == [False] * 45
    assert {r.path for r in spotify_sandbox.requests} == {
        "/v1/me/library",
        "/v1/me/library/contains",
    }


async def test_create_a_playlist_and_fill_it(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    api = api_for(spotify_sandbox, sandbox_oauth, client)
    uris = [f"spotify:track:{i}" for i in spotify_sandbox.track_ids()[:150]]

    playlist = await api.create_playlist("Server favourites", description="From Encore")
    snapshot = await api.add_playlist_items(playlist.id, uris)

    stored = spotify_sandbox.catalog.playlists[playlist.id]
    assert [entry.uri for entry in stored.entries] == uris
    assert snapshot == stored.snapshot_id
    assert (await api.playlist(playlist.id)).total_items == 150


async def test_search_and_single_items(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    api = api_for(spotify_sandbox, sandbox_oauth, client)
    track_id = spotify_sandbox.track_ids()[0]

    track = await api.track(track_id)
    results = await api.search(track.name, ["track", "artist"], limit=50)

    assert results.tracks is not None and len(results.tracks.items) <= 10
    assert track.id in {t.id for t in results.tracks.items}
    assert (await api.album(spotify_sandbox.album_ids()[0])).id == spotify_sandbox.album_ids()[0]
    assert (await api.artist(spotify_sandbox.artist_ids()[0])).name


async def test_a_rate_limit_holds_back_other_members(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, http: aiohttp.ClientSession
) -> None:
    rate_limited = asyncio.Event()

    def on_response(method: str, path: str, status: int | None, seconds: float) -> None:
        if status == 429:
            rate_limited.set()

    client = SpotifyClient(http, api_url=spotify_sandbox.api_url, on_response=on_response)
    spotify_sandbox.faults.rate_limit(retry_after=1, path="/me")
    first = asyncio.create_task(api_for(spotify_sandbox, sandbox_oauth, client, "user0").me())
    await rate_limited.wait()

    await api_for(spotify_sandbox, sandbox_oauth, client, "user1").top_tracks()
    await first

    limited, *later = spotify_sandbox.requests
    assert limited.status == 429
    assert [r.status for r in later] == [200, 200]
    assert all(r.at - limited.at >= 1 for r in later)


async def test_server_errors_are_retried(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    spotify_sandbox.faults.server_error(count=2, path="/me/top/tracks")

    page = await api_for(spotify_sandbox, sandbox_oauth, client).top_tracks()

    assert len(page.items) == 50
    assert [r.status for r in spotify_sandbox.requests] == [503, 503, 200]


async def test_expired_then_revoked_tokens(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    tokens = member(spotify_sandbox, sandbox_oauth, "user4")
    api = client.user(tokens)

    spotify_sandbox.expire_access_tokens("user4")
    assert (await api.me()).id == "user4"
    spotify_sandbox.revoke("user4")
    with pytest.raises(InvalidGrant):
        await api.me()

    assert tokens.refresh_calls == 2


async def test_development_mode_refusals(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    stranger = spotify_sandbox.add_user("stranger", allow_listed=False)
    no_top = member(spotify_sandbox, sandbox_oauth, "user5", scopes=("user-library-read",))

    with pytest.raises(NotAllowListed):
        await api_for(spotify_sandbox, sandbox_oauth, client, stranger.id).me()
    with pytest.raises(MissingScope) as caught:
        await client.user(no_top).top_artists()

    assert caught.value.scopes == ("user-top-read",)


class Limits:
    """What the client tells the deployment's shared limits."""

    def __init__(self) -> None:
        self.counted = 0
        self.rate_limits: list[float] = []

    async def count_interactive(self) -> None:
        self.counted += 1

    def rate_limited(self, retry_after: float) -> None:
        self.rate_limits.append(retry_after)


async def test_commands_requests_are_counted_and_429s_shared(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    limits = Limits()
    client.limits = limits
    spotify_sandbox.faults.rate_limit(retry_after=0.2, path="/me/top")
    command = api_for(spotify_sandbox, sandbox_oauth, client, "user0")
    await command.top_tracks()
    await command.me()
    background = member(spotify_sandbox, sandbox_oauth, "user1")
    await client.user(background, interactive=False).me()

    assert limits.counted == 3  # the 429, its retry, /me; not the background request
    assert limits.rate_limits == [0.2]


async def test_a_cooldown_another_process_saw_holds_every_request(
    spotify_sandbox: SpotifySandbox, sandbox_oauth: SpotifyOAuth, client: SpotifyClient
) -> None:
    client.hold_cooldown(60)
    with pytest.raises(RateLimited):
        await api_for(spotify_sandbox, sandbox_oauth, client, "user0").me()
    assert spotify_sandbox.requests_to("/me") == []
