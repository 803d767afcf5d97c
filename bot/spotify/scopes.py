"""The scopes Encore asks for, and the scope each endpoint needs, so a 403 can be explained
without reading its message.

A need is a set of scopes any one of which is enough; an endpoint has zero or more needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.spotify.ids import SpotifyKind

Need = frozenset[str]
Needs = tuple[Need, ...]

LISTENING_SCOPES: tuple[str, ...] = ("user-read-currently-playing", "user-read-recently-played")
"""Asked for since listening history; members linked before lack them until they /link again."""

SCOPES: tuple[str, ...] = (
    "user-top-read",
    "user-library-read",
    "user-library-modify",
    "user-follow-read",
    "user-follow-modify",
    "playlist-read-private",
    "playlist-modify-private",
    "playlist-modify-public",
    "user-read-playback-position",  # Spotify's description asks for it on GET /me/episodes
    *LISTENING_SCOPES,
)
"""What Encore asks for at /link."""


def has_listening_scopes(granted: str | Iterable[str] | None) -> bool:
    """Whether a grant (a stored space-separated scope string, or scopes) includes both
    listening scopes; False when unknown, so the member is asked to /link again."""
    if granted is None:
        return False
    scopes = set(granted.split()) if isinstance(granted, str) else set(granted)
    return scopes.issuperset(LISTENING_SCOPES)


def _one(scope: str) -> Needs:
    return (frozenset({scope}),)


ENDPOINT_SCOPES: Mapping[tuple[str, str], Needs] = {
    ("GET", "/me"): (),
    ("GET", "/me/top/artists"): _one("user-top-read"),
    ("GET", "/me/top/tracks"): _one("user-top-read"),
    ("GET", "/me/tracks"): _one("user-library-read"),
    ("GET", "/me/albums"): _one("user-library-read"),
    ("GET", "/me/shows"): _one("user-library-read"),
    ("GET", "/me/episodes"): (*_one("user-library-read"), *_one("user-read-playback-position")),
    ("GET", "/me/audiobooks"): _one("user-library-read"),
    ("GET", "/me/following"): _one("user-follow-read"),
    ("GET", "/me/playlists"): _one("playlist-read-private"),
    ("GET", "/me/player/currently-playing"): _one("user-read-currently-playing"),
    ("GET", "/me/player/recently-played"): _one("user-read-recently-played"),
    ("GET", "/search"): (),
    ("GET", "/tracks/{id}"): (),
    ("GET", "/albums/{id}"): (),
    ("GET", "/artists/{id}"): (),
    ("GET", "/shows/{id}"): (),
    ("GET", "/episodes/{id}"): (),
    ("GET", "/audiobooks/{id}"): (),
    ("GET", "/playlists/{id}"): (),
    ("POST", "/me/playlists"): (frozenset({"playlist-modify-public", "playlist-modify-private"}),),
    ("POST", "/playlists/{id}/items"): (
        frozenset({"playlist-modify-public", "playlist-modify-private"}),
    ),
}

LIBRARY_WRITE_SCOPE: Mapping[SpotifyKind, str] = {
    SpotifyKind.TRACK: "user-library-modify",
    SpotifyKind.ALBUM: "user-library-modify",
    SpotifyKind.SHOW: "user-library-modify",
    SpotifyKind.EPISODE: "user-library-modify",
    SpotifyKind.AUDIOBOOK: "user-library-modify",
    SpotifyKind.ARTIST: "user-follow-modify",
    SpotifyKind.USER: "user-follow-modify",
    SpotifyKind.PLAYLIST: "playlist-modify-public",
}

LIBRARY_READ_SCOPE: Mapping[SpotifyKind, str] = {
    SpotifyKind.TRACK: "user-library-read",
    SpotifyKind.ALBUM: "user-library-read",
    SpotifyKind.SHOW: "user-library-read",
    SpotifyKind.EPISODE: "user-library-read",
    SpotifyKind.AUDIOBOOK: "user-library-read",
    SpotifyKind.ARTIST: "user-follow-read",
    SpotifyKind.USER: "user-follow-read",
    SpotifyKind.PLAYLIST: "playlist-read-private",
}


def _kind_of(uri: str) -> SpotifyKind | None:
    parts = uri.split(":")
    if len(parts) < 3:
        return None
    try:
        return SpotifyKind(parts[1])
    except ValueError:
        return None


def library_needs(uris: Iterable[str], *, write: bool) -> Needs:
    """Needs of a /me/library call, from the kinds of the URIs it carries."""
    table = LIBRARY_WRITE_SCOPE if write else LIBRARY_READ_SCOPE
    scopes: set[str] = set()
    for uri in uris:
        kind = _kind_of(uri)
        if kind is not None:
            scopes.add(table[kind])
    return tuple(frozenset({scope}) for scope in sorted(scopes))


def playlist_create_needs(public: bool) -> Needs:
    return _one("playlist-modify-public" if public else "playlist-modify-private")


def missing_scopes(needs: Sequence[Need], granted: frozenset[str] | None) -> tuple[str, ...]:
    """Scopes that would satisfy the unmet needs; empty when all are met or grants are unknown."""
    if granted is None:
        return ()
    unmet: set[str] = set()
    for need in needs:
        if not need & granted:
            unmet |= need
    return tuple(sorted(unmet))
