"""Every Web API endpoint of the sandbox, called with plain aiohttp, answers in the shapes of
Spotify's OpenAPI description (successes and errors alike) and behaves like the real service."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from sandbox.openapi_check import SpotifyOpenApi
from sandbox.spotify import SpotifySandbox
from tests.helpers.spotify_sandbox import bearer


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None


async def send(
    sandbox: SpotifySandbox,
    http: aiohttp.ClientSession,
    call: Call,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with http.request(
        call.method,
        sandbox.api_url + call.path,
        params=call.params,
        json=call.json,
        headers=headers if headers is not None else bearer(sandbox),
    ) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


def own_playlist(sandbox: SpotifySandbox) -> str:
    return sandbox.users["user0"].playlists[0]


def others_playlist(sandbox: SpotifySandbox) -> str:
    return sandbox.users["user1"].playlists[0]


def uris(sandbox: SpotifySandbox) -> str:
    return ",".join(
        [
            f"spotify:track:{sandbox.track_ids()[0]}",
            f"spotify:album:{sandbox.album_ids()[0]}",
            f"spotify:show:{sandbox.show_ids()[0]}",
            f"spotify:episode:{sandbox.episode_ids()[0]}",
            f"spotify:audiobook:{sandbox.audiobook_ids()[0]}",
            f"spotify:artist:{sandbox.artist_ids()[0]}",
            "spotify:user:user3",
            f"spotify:playlist:{others_playlist(sandbox)}",
        ]
    )


SUCCESSES: dict[str, tuple[int, Callable[[SpotifySandbox], Call]]] = {
    "profile": (200, lambda s: Call("GET", "/me")),
    "top artists": (
        200,
        lambda s: Call("GET", "/me/top/artists", {"time_range": "short_term", "limit": "50"}),
    ),
    "top tracks": (
        200,
        lambda s: Call(
            "GET", "/me/top/tracks", {"time_range": "long_term", "limit": "10", "offset": "5"}
        ),
    ),
    "saved tracks": (200, lambda s: Call("GET", "/me/tracks", {"limit": "50"})),
    "saved albums": (200, lambda s: Call("GET", "/me/albums", {"limit": "5", "offset": "2"})),
    "saved shows": (200, lambda s: Call("GET", "/me/shows")),
    "saved episodes": (200, lambda s: Call("GET", "/me/episodes")),
    "saved audiobooks": (200, lambda s: Call("GET", "/me/audiobooks")),
    "followed artists": (200, lambda s: Call("GET", "/me/following", {"type": "artist"})),
    "followed artists, last page": (
        200,
        lambda s: Call("GET", "/me/following", {"type": "artist", "limit": "50"}),
    ),
    "playlists": (200, lambda s: Call("GET", "/me/playlists", {"limit": "50"})),
    "search": (
        200,
        lambda s: Call(
            "GET",
            "/search",
            {
                "q": "heart",
                "type": "album,artist,playlist,track,show,episode,audiobook",
                "limit": "10",
                "offset": "3",
            },
        ),
    ),
    "track": (200, lambda s: Call("GET", f"/tracks/{s.track_ids()[0]}")),
    "album": (200, lambda s: Call("GET", f"/albums/{s.album_ids()[0]}")),
    "artist": (200, lambda s: Call("GET", f"/artists/{s.artist_ids()[0]}")),
    "show": (200, lambda s: Call("GET", f"/shows/{s.show_ids()[0]}")),
    "episode": (200, lambda s: Call("GET", f"/episodes/{s.episode_ids()[0]}")),
    "audiobook": (200, lambda s: Call("GET", f"/audiobooks/{s.audiobook_ids()[0]}")),
    "own playlist": (200, lambda s: Call("GET", f"/playlists/{own_playlist(s)}")),
    "other user's playlist": (200, lambda s: Call("GET", f"/playlists/{others_playlist(s)}")),
    "editorial playlist": (200, lambda s: Call("GET", f"/playlists/{s.playlist_ids()[0]}")),
    "playlist items": (200, lambda s: Call("GET", f"/playlists/{own_playlist(s)}/items")),
    "save to library": (200, lambda s: Call("PUT", "/me/library", {"uris": uris(s)})),
    "remove from library": (200, lambda s: Call("DELETE", "/me/library", {"uris": uris(s)})),
    "library contains": (200, lambda s: Call("GET", "/me/library/contains", {"uris": uris(s)})),
    "create playlist": (
        201,
        lambda s: Call("POST", "/me/playlists", json={"name": "Ours", "public": False}),
    ),
    "add playlist items": (
        201,
        lambda s: Call(
            "POST",
            f"/playlists/{own_playlist(s)}/items",
            json={"uris": [f"spotify:track:{s.track_ids()[1]}"], "position": 0},
        ),
    ),
    "add playlist items by query": (
        201,
        lambda s: Call(
            "POST",
            f"/playlists/{own_playlist(s)}/items",
            {"uris": f"spotify:episode:{s.episode_ids()[1]}"},
        ),
    ),
}


@pytest.mark.parametrize("case", SUCCESSES)
async def test_endpoints_answer_in_the_documented_shape(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
    case: str,
) -> None:
    expected, make = SUCCESSES[case]

    status, _ = await send(spotify_sandbox, sandbox_http, make(spotify_sandbox))

    assert status == expected
    assert spotify_openapi.check(spotify_sandbox.requests) == []


ERRORS: dict[str, tuple[int, Callable[[SpotifySandbox], Call]]] = {
    "limit above 50": (400, lambda s: Call("GET", "/me/top/artists", {"limit": "51"})),
    "limit below 1": (400, lambda s: Call("GET", "/me/tracks", {"limit": "0"})),
    "negative offset": (400, lambda s: Call("GET", "/me/albums", {"offset": "-1"})),
    "unknown time range": (400, lambda s: Call("GET", "/me/top/tracks", {"time_range": "ever"})),
    "following without type": (400, lambda s: Call("GET", "/me/following")),
    "search limit above 10": (
        400,
        lambda s: Call("GET", "/search", {"q": "a", "type": "track", "limit": "11"}),
    ),
    "search without query": (400, lambda s: Call("GET", "/search", {"type": "track"})),
    "search for an unknown type": (400, lambda s: Call("GET", "/search", {"q": "a", "type": "x"})),
    "41 library URIs": (
        400,
        lambda s: Call(
            "PUT",
            "/me/library",
            {"uris": ",".join(f"spotify:track:{item}" for item in s.track_ids()[:41])},
        ),
    ),
    "malformed library URI": (400, lambda s: Call("PUT", "/me/library", {"uris": "track:1"})),
    "unknown library item": (
        400,
        lambda s: Call("DELETE", "/me/library", {"uris": "spotify:track:0000000000000000000000"}),
    ),
    "contains without URIs": (400, lambda s: Call("GET", "/me/library/contains")),
    "malformed id": (400, lambda s: Call("GET", "/tracks/not-an-id")),
    "unknown track": (404, lambda s: Call("GET", "/tracks/0000000000000000000000")),
    "unknown playlist": (404, lambda s: Call("GET", "/playlists/0000000000000000000000")),
    "someone else's playlist items": (
        403,
        lambda s: Call("GET", f"/playlists/{others_playlist(s)}/items"),
    ),
    "adding to someone else's playlist": (
        403,
        lambda s: Call(
            "POST",
            f"/playlists/{others_playlist(s)}/items",
            json={"uris": [f"spotify:track:{s.track_ids()[0]}"]},
        ),
    ),
    "101 playlist items": (
        400,
        lambda s: Call(
            "POST",
            f"/playlists/{own_playlist(s)}/items",
            json={"uris": [f"spotify:track:{item}" for item in s.track_ids()[:101]]},
        ),
    ),
    "albums are not playlist items": (
        400,
        lambda s: Call(
            "POST",
            f"/playlists/{own_playlist(s)}/items",
            json={"uris": [f"spotify:album:{s.album_ids()[0]}"]},
        ),
    ),
    "playlist without a name": (400, lambda s: Call("POST", "/me/playlists", json={})),
    "unknown endpoint": (404, lambda s: Call("GET", "/me/nothing-here")),
}


@pytest.mark.parametrize("case", ERRORS)
async def test_errors_answer_in_the_documented_shape(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
    case: str,
) -> None:
    expected, make = ERRORS[case]

    status, body = await send(spotify_sandbox, sandbox_http, make(spotify_sandbox))

    assert status == expected
    assert body["error"]["status"] == expected and body["error"]["message"]
    assert spotify_openapi.check(spotify_sandbox.requests) == []


async def test_auth_errors_and_rate_limits_answer_in_the_documented_shape(
    spotify_sandbox: SpotifySandbox,
    sandbox_http: aiohttp.ClientSession,
    spotify_openapi: SpotifyOpenApi,
) -> None:
    spotify_sandbox.add_user("outsider", allow_listed=False)
    top = Call("GET", "/me/top/artists")
    no_scope = bearer(spotify_sandbox, scopes=("user-library-read",))

    statuses = [
        (await send(spotify_sandbox, sandbox_http, top, {}))[0],
        (await send(spotify_sandbox, sandbox_http, top, no_scope))[0],
        (await send(spotify_sandbox, sandbox_http, top, bearer(spotify_sandbox, "outsider")))[0],
    ]
    spotify_sandbox.faults.rate_limit(1, reason="QUOTA_EXCEEDED")
    statuses.append((await send(spotify_sandbox, sandbox_http, top))[0])

    assert statuses == [401, 403, 403, 429]
    assert spotify_openapi.check(spotify_sandbox.requests) == []


# Behaviour


async def follow_next(
    sandbox: SpotifySandbox, http: aiohttp.ClientSession, url: str | None, key: str | None = None
) -> list[Any]:
    """Every item of a paged listing, following `next` links to the end."""
    items: list[Any] = []
    headers = bearer(sandbox)
    while url:
        async with http.get(url, headers=headers) as response:
            body = await response.json()
        page = body[key] if key else body
        items.extend(page["items"])
        url = page.get("next")
    return items


async def test_next_links_walk_the_whole_library_newest_first(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    user = spotify_sandbox.users["user0"]
    saved = [uri for uri in reversed(user.library) if uri.startswith("spotify:track:")]

    items = await follow_next(
        spotify_sandbox, sandbox_http, spotify_sandbox.api_url + "/me/tracks?limit=50"
    )

    assert [item["track"]["uri"] for item in items] == saved
    added = [item["added_at"] for item in items]
    assert added == sorted(added, reverse=True)


async def test_top_items_are_the_users_own_in_order(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    user = spotify_sandbox.users["user0"]
    url = spotify_sandbox.api_url + "/me/top/tracks?time_range=short_term&limit=7"

    items = await follow_next(spotify_sandbox, sandbox_http, url)

    assert [item["id"] for item in items] == user.top_tracks["short_term"]


async def test_the_followed_artists_cursor_reaches_every_artist(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    followed = [uri for uri in spotify_sandbox.users["user0"].library if ":artist:" in uri]
    url = spotify_sandbox.api_url + "/me/following?type=artist&limit=7"

    items = await follow_next(spotify_sandbox, sandbox_http, url, "artists")

    assert sorted(item["uri"] for item in items) == sorted(followed)


async def test_saving_following_and_removing_through_the_library(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    user = spotify_sandbox.users["user0"]
    track = next(t for t in spotify_sandbox.track_ids() if f"spotify:track:{t}" not in user.library)
    artist = next(
        a for a in spotify_sandbox.artist_ids() if f"spotify:artist:{a}" not in user.library
    )
    both = f"spotify:track:{track},spotify:artist:{artist}"

    await send(spotify_sandbox, sandbox_http, Call("PUT", "/me/library", {"uris": both}))
    _, contains = await send(
        spotify_sandbox, sandbox_http, Call("GET", "/me/library/contains", {"uris": both})
    )
    _, saved = await send(spotify_sandbox, sandbox_http, Call("GET", "/me/tracks", {"limit": "1"}))
    followed = await follow_next(
        spotify_sandbox,
        sandbox_http,
        spotify_sandbox.api_url + "/me/following?type=artist&limit=50",
        "artists",
    )
    await send(spotify_sandbox, sandbox_http, Call("DELETE", "/me/library", {"uris": both}))
    _, after = await send(
        spotify_sandbox, sandbox_http, Call("GET", "/me/library/contains", {"uris": both})
    )

    assert contains == [True, True]
    assert saved["items"][0]["track"]["id"] == track
    assert artist in [item["id"] for item in followed]
    assert after == [False, False]


async def test_created_playlists_take_items_and_list_first(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    new = Call("POST", "/me/playlists", json={"name": "Server favourites", "description": "x"})
    _, created = await send(spotify_sandbox, sandbox_http, new)
    tracks = [f"spotify:track:{item}" for item in spotify_sandbox.track_ids()[:3]]
    add = Call("POST", f"/playlists/{created['id']}/items", json={"uris": tracks})

    _, added = await send(spotify_sandbox, sandbox_http, add)
    _, listing = await send(spotify_sandbox, sandbox_http, Call("GET", "/me/playlists"))
    _, playlist = await send(
        spotify_sandbox, sandbox_http, Call("GET", f"/playlists/{created['id']}")
    )

    assert created["public"] is True and created["owner"]["id"] == "user0"
    assert added["snapshot_id"] != created["snapshot_id"]
    assert listing["items"][0]["id"] == created["id"]
    assert listing["items"][0]["items"]["total"] == 3
    assert [entry["item"]["uri"] for entry in playlist["items"]["items"]] == tracks
    assert playlist["snapshot_id"] == added["snapshot_id"]


async def test_only_owners_see_a_playlists_items(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    theirs = Call("GET", f"/playlists/{others_playlist(spotify_sandbox)}")

    _, as_stranger = await send(spotify_sandbox, sandbox_http, theirs)
    _, as_owner = await send(
        spotify_sandbox, sandbox_http, theirs, bearer(spotify_sandbox, "user1")
    )

    assert "items" not in as_stranger
    assert as_owner["items"]["total"] == len(as_owner["items"]["items"]) > 0


async def test_search_finds_by_name_and_pages(
    spotify_sandbox: SpotifySandbox, sandbox_http: aiohttp.ClientSession
) -> None:
    artist = spotify_sandbox.catalog.artists[spotify_sandbox.artist_ids()[17]]
    by_name = Call("GET", "/search", {"q": artist.name, "type": "artist"})
    paged = Call("GET", "/search", {"q": "heart", "type": "track", "limit": "3", "offset": "3"})
    first = Call("GET", "/search", {"q": "heart", "type": "track", "limit": "6"})

    _, found = await send(spotify_sandbox, sandbox_http, by_name)
    _, page = await send(spotify_sandbox, sandbox_http, paged)
    _, whole = await send(spotify_sandbox, sandbox_http, first)

    assert artist.id in [item["id"] for item in found["artists"]["items"]]
    assert [item["id"] for item in page["tracks"]["items"]] == [
        item["id"] for item in whole["tracks"]["items"][3:]
    ]
    for track in whole["tracks"]["items"]:
        names = [track["name"], track["album"]["name"], *(a["name"] for a in track["artists"])]
        assert "heart" in " ".join(names).lower()
