import pytest

from sandbox.spotify_removed import removed_endpoint


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/recommendations", 404),
        ("GET", "/v1/artists/0TnOYISbd1XYRBk9myaseg/related-artists", 404),
        ("GET", "/v1/artists/0TnOYISbd1XYRBk9myaseg/top-tracks", 403),
        ("GET", "/v1/audio-features/11dFghVXANMlKmJXsNCbNl", 403),
        ("GET", "/v1/browse/categories/party/playlists", 404),
        ("GET", "/v1/tracks", 403),
        ("GET", "/v1/users/someone", 403),
        ("GET", "/v1/users/someone/playlists", 403),
        ("PUT", "/v1/me/tracks", 403),
        ("DELETE", "/v1/me/following", 403),
        ("GET", "/v1/me/albums/contains", 403),
        ("POST", "/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/tracks", 403),
    ],
)
def test_removed_endpoints_are_found(method: str, path: str, status: int) -> None:
    endpoint = removed_endpoint(method, path)

    assert endpoint is not None and endpoint.status == status


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/me/tracks"),
        ("GET", "/v1/me/following"),
        ("GET", "/v1/tracks/11dFghVXANMlKmJXsNCbNl"),
        ("GET", "/v1/artists/0TnOYISbd1XYRBk9myaseg"),
        ("PUT", "/v1/me/library"),
        ("POST", "/v1/playlists/3cEYpjA9oz9GiPac4AsH4n/items"),
        ("GET", "/recommendations"),
    ],
)
def test_endpoints_still_there_are_not_removed(method: str, path: str) -> None:
    assert removed_endpoint(method, path) is None
