"""Web API endpoints that Development-Mode apps can no longer use (DESIGN.md, "Spotify, as it
really is in 2026"), with the status the sandbox answers them with.

This is the one list both the sandbox and the test fixture use: the sandbox refuses these
requests, and the `spotify_sandbox` fixture fails any test whose code sent one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.spotify_faults import API_PREFIX


@dataclass(frozen=True)
class RemovedEndpoint:
    method: str
    path: str
    """Path template under /v1; `{...}` stands for one path segment."""
    status: int

    def matches(self, method: str, api_path: str) -> bool:
        if method != self.method:
            return False
        pattern = self.path.strip("/").split("/")
        segments = api_path.strip("/").split("/")
        return len(pattern) == len(segments) and all(
            part.startswith("{") or part == segment
            for part, segment in zip(pattern, segments, strict=True)
        )


def _each(methods: str, paths: str, status: int) -> list[RemovedEndpoint]:
    return [
        RemovedEndpoint(method, path, status)
        for method in methods.split()
        for path in paths.split()
    ]


_PER_TYPE_LIBRARY = "/me/tracks /me/albums /me/shows /me/episodes /me/audiobooks /me/following"

REMOVED_ENDPOINTS: tuple[RemovedEndpoint, ...] = (
    *_each(
        "GET",
        "/recommendations /recommendations/available-genre-seeds /artists/{id}/related-artists "
        "/browse/featured-playlists /browse/new-releases /browse/categories "
        "/browse/categories/{id} /browse/categories/{id}/playlists",
        404,
    ),
    *_each(
        "GET",
        "/audio-features /audio-features/{id} /audio-analysis/{id} /artists/{id}/top-tracks "
        "/artists /tracks /albums /shows /episodes /audiobooks /chapters "
        "/users/{id} /users/{id}/playlists",
        403,
    ),
    *_each("POST", "/users/{id}/playlists", 403),
    *_each("PUT DELETE", _PER_TYPE_LIBRARY + " /playlists/{id}/followers", 403),
    *_each(
        "GET",
        " ".join(f"{path}/contains" for path in _PER_TYPE_LIBRARY.split())
        + " /playlists/{id}/followers/contains",
        403,
    ),
    *_each("GET POST PUT DELETE", "/playlists/{id}/tracks", 403),
)


def removed_endpoint(method: str, path: str) -> RemovedEndpoint | None:
    """The removed endpoint a request (full path, e.g. `/v1/recommendations`) targets, if any."""
    if not path.startswith(API_PREFIX + "/"):
        return None
    api_path = path[len(API_PREFIX) :]
    return next(
        (endpoint for endpoint in REMOVED_ENDPOINTS if endpoint.matches(method.upper(), api_path)),
        None,
    )
