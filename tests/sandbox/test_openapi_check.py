from typing import Any

from sandbox.openapi_check import SpotifyOpenApi
from sandbox.spotify import RecordedRequest
from tests.helpers.spotify_sandbox import exchange_problems

ARTIST = {
    "external_urls": {"spotify": "https://open.spotify.com/artist/0TnOYISbd1XYRBk9myaseg"},
    "href": "https://api.spotify.com/v1/artists/0TnOYISbd1XYRBk9myaseg",
    "id": "0TnOYISbd1XYRBk9myaseg",
    "images": [],
    "name": "Pitbull",
    "type": "artist",
    "uri": "spotify:artist:0TnOYISbd1XYRBk9myaseg",
}
TRACK = {"id": "11dFghVXANMlKmJXsNCbNl", "name": "Cut To The Feeling", "type": "track"}


def page(items: list[Any]) -> dict[str, Any]:
    return {
        "href": "https://api.spotify.com/v1/me/top/artists",
        "items": items,
        "limit": 20,
        "next": None,
        "offset": 0,
        "previous": None,
        "total": len(items),
    }


def exchange(
    path: str,
    status: int,
    response: Any,
    *,
    method: str = "GET",
    query: dict[str, str] | None = None,
    body: Any = None,
) -> RecordedRequest:
    return RecordedRequest(
        method=method,
        path=path,
        query=query or {},
        status=status,
        user_id="user0",
        at=0.0,
        response_json=response,
        request_json=body,
    )


def test_a_conforming_exchange_has_no_problems(spotify_openapi: SpotifyOpenApi) -> None:
    good = exchange("/v1/me/top/artists", 200, page([ARTIST]), query={"limit": "20"})

    assert spotify_openapi.problems(good) == []


def test_a_missing_required_field_is_named(spotify_openapi: SpotifyOpenApi) -> None:
    broken = page([ARTIST])
    del broken["total"]

    problems = spotify_openapi.check([exchange("/v1/me/top/artists", 200, broken)])

    assert len(problems) == 1
    assert problems[0].startswith("GET /v1/me/top/artists -> 200: response:")
    assert "'total' is a required property" in problems[0]


def test_a_wrong_type_deep_inside_is_named(spotify_openapi: SpotifyOpenApi) -> None:
    artist = {**ARTIST, "images": [{"url": "x", "height": "tall", "width": 1}]}

    [problem] = spotify_openapi.check([exchange("/v1/me/top/artists", 200, page([artist]))])

    assert "items/0/images/0/height" in problem


def test_requests_are_checked_when_they_succeeded(spotify_openapi: SpotifyOpenApi) -> None:
    accepted = exchange("/v1/me/top/artists", 200, page([]), query={"limit": "99"})
    refused = exchange(
        "/v1/me/top/artists",
        400,
        {"error": {"status": 400, "message": "Invalid limit"}},
        query={"limit": "99"},
    )

    assert any("limit" in problem for problem in spotify_openapi.problems(accepted))
    assert spotify_openapi.problems(refused) == []


def test_request_bodies_are_checked(spotify_openapi: SpotifyOpenApi) -> None:
    nameless = exchange("/v1/me/playlists", 201, {}, method="POST", body={"public": False})

    assert any(problem.startswith("request:") for problem in spotify_openapi.problems(nameless))


def test_undocumented_error_statuses_still_need_the_error_shape(
    spotify_openapi: SpotifyOpenApi,
) -> None:
    good = exchange("/v1/tracks/x", 404, {"error": {"status": 404, "message": "Not found"}})
    bad = exchange("/v1/tracks/x", 404, {"message": "Not found"})
    server = exchange("/v1/me", 503, {"error": {"status": 503, "message": "Unavailable"}})

    assert spotify_openapi.problems(good) == []
    assert spotify_openapi.problems(server) == []
    assert spotify_openapi.problems(bad) == ["error body: (body): 'error' is a required property"]


def test_documented_error_statuses_are_checked_against_the_description(
    spotify_openapi: SpotifyOpenApi,
) -> None:
    quota = {"error": {"status": 429, "message": "Quota", "reason": "QUOTA_EXCEEDED"}}
    wrong = {"error": {"status": "429"}}

    assert spotify_openapi.problems(exchange("/v1/me", 429, quota)) == []
    assert spotify_openapi.problems(exchange("/v1/me", 429, wrong))


def test_playlist_items_may_be_tracks_or_episodes(spotify_openapi: SpotifyOpenApi) -> None:
    items = page([{"added_at": "2026-01-01T00:00:00Z", "is_local": False, "item": TRACK}])
    wrong = page([{"added_at": "2026-01-01T00:00:00Z", "item": {**TRACK, "type": "podcast"}}])

    assert spotify_openapi.problems(exchange("/v1/playlists/p/items", 200, items)) == []
    assert spotify_openapi.problems(exchange("/v1/playlists/p/items", 200, wrong))


def test_undocumented_successes_and_other_services(spotify_openapi: SpotifyOpenApi) -> None:
    unknown = exchange("/v1/made-up", 200, {})
    accounts = exchange("/api/token", 200, {"anything": True}, method="POST")

    assert spotify_openapi.problems(unknown)
    assert spotify_openapi.problems(accounts) == []


def test_unanswered_requests_are_not_checked(spotify_openapi: SpotifyOpenApi) -> None:
    assert spotify_openapi.problems(exchange("/v1/me", 0, None)) == []


def test_the_fixture_check_flags_removed_endpoints(spotify_openapi: SpotifyOpenApi) -> None:
    removed = exchange("/v1/recommendations", 404, {"error": {"status": 404, "message": "No"}})

    assert exchange_problems(spotify_openapi, [removed]) == [
        "GET /v1/recommendations -> 404: endpoint removed for Development-Mode apps"
    ]
