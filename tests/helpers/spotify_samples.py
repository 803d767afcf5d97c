"""Spec-shaped Web API objects (see /work/shared/spotify-openapi.yml) for tests."""

from __future__ import annotations

from typing import Any

API = "https://api.spotify.com/v1"


def sid(n: int, prefix: str = "x") -> str:
    """A valid 22-character base62 id, distinct per (prefix, n)."""
    return f"{prefix}{n}".ljust(22, "0")[:22]


def images(size: int = 640) -> list[dict[str, Any]]:
    return [
        {"url": f"https://i.scdn.co/image/{size}", "height": size, "width": size},
        {"url": "https://i.scdn.co/image/64", "height": 64, "width": 64},
    ]


def _base(kind: str, item_id: str, name: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "name": name,
        "type": kind,
        "uri": f"spotify:{kind}:{item_id}",
        "href": f"{API}/{kind}s/{item_id}",
        "external_urls": {"spotify": f"https://open.spotify.com/{kind}/{item_id}"},
    }


def simple_artist(n: int) -> dict[str, Any]:
    return _base("artist", sid(n, "ar"), f"Artist {n}")


def artist(n: int) -> dict[str, Any]:
    """An artist as Development-Mode apps get it: popularity, followers, genres dropped."""
    return {**simple_artist(n), "images": images()}


def simple_album(n: int) -> dict[str, Any]:
    return {
        **_base("album", sid(n, "al"), f"Album {n}"),
        "album_type": "album",
        "total_tracks": 10,
        "available_markets": [],
        "images": images(),
        "release_date": "1981-12",
        "release_date_precision": "month",
        "artists": [simple_artist(n)],
    }


def album(n: int) -> dict[str, Any]:
    return {
        **simple_album(n),
        "tracks": page([simple_track(n)], href=f"{API}/albums/{sid(n, 'al')}/tracks"),
        "copyrights": [],
        "external_ids": {},
        "label": "Label",
    }


def simple_track(n: int) -> dict[str, Any]:
    return {
        **_base("track", sid(n, "tr"), f"Track {n}"),
        "artists": [simple_artist(n)],
        "disc_number": 1,
        "duration_ms": 200_000 + n,
        "explicit": False,
        "track_number": 1,
        "is_local": False,
    }


def track(n: int) -> dict[str, Any]:
    return {**simple_track(n), "album": simple_album(n), "external_ids": {"isrc": "X"}}


def show(n: int) -> dict[str, Any]:
    return {
        **_base("show", sid(n, "sh"), f"Show {n}"),
        "available_markets": [],
        "copyrights": [],
        "description": "About things",
        "html_description": "<p>About things</p>",
        "explicit": False,
        "images": images(),
        "is_externally_hosted": False,
        "languages": ["en"],
        "media_type": "audio",
        "publisher": "Publisher",
        "total_episodes": 3,
    }


def episode(n: int) -> dict[str, Any]:
    return {
        **_base("episode", sid(n, "ep"), f"Episode {n}"),
        "audio_preview_url": None,
        "description": "An episode",
        "html_description": "<p>An episode</p>",
        "duration_ms": 1_686_230,
        "explicit": False,
        "images": images(),
        "is_externally_hosted": False,
        "is_playable": True,
        "languages": ["en"],
        "release_date": "2024-01-02",
        "release_date_precision": "day",
        "show": show(n),
    }


def audiobook(n: int) -> dict[str, Any]:
    return {
        **_base("audiobook", sid(n, "ab"), f"Audiobook {n}"),
        "authors": [{"name": "An Author"}],
        "narrators": [{"name": "A Narrator"}],
        "available_markets": [],
        "copyrights": [],
        "description": "A book",
        "html_description": "<p>A book</p>",
        "explicit": False,
        "images": images(),
        "languages": ["en"],
        "media_type": "audio",
        "publisher": "Publisher",
        "total_chapters": 12,
    }


def simple_playlist(n: int, *, size_field: str = "items") -> dict[str, Any]:
    playlist_id = sid(n, "pl")
    return {
        **_base("playlist", playlist_id, f"Playlist {n}"),
        "collaborative": False,
        "description": "",
        "images": images(300),
        "owner": {
            "id": "owner",
            "type": "user",
            "uri": "spotify:user:owner",
            "href": f"{API}/users/owner",
            "external_urls": {"spotify": "https://open.spotify.com/user/owner"},
            "display_name": "Owner",
        },
        "public": True,
        "snapshot_id": "snap",
        size_field: {"href": f"{API}/playlists/{playlist_id}/items", "total": n},
    }


def private_user(user_id: str = "user0", account_id: str | None = "acc0") -> dict[str, Any]:
    user = {
        "id": user_id,
        "display_name": f"User {user_id}",
        "type": "user",
        "uri": f"spotify:user:{user_id}",
        "href": f"{API}/users/{user_id}",
        "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"},
        "images": [],
    }
    if account_id is not None:
        user["account_id"] = account_id
    return user


def page(
    items: list[Any],
    *,
    total: int | None = None,
    offset: int = 0,
    limit: int = 50,
    href: str = f"{API}/me/tracks",
    has_next: bool = False,
) -> dict[str, Any]:
    return {
        "href": href,
        "items": items,
        "limit": limit,
        "offset": offset,
        "total": len(items) if total is None else total,
        "next": f"{href}?offset={offset + limit}&limit={limit}" if has_next else None,
        "previous": None,
    }


def cursor_page(items: list[Any], *, after: str | None, limit: int = 50) -> dict[str, Any]:
    href = f"{API}/me/following?type=artist"
    return {
        "href": href,
        "items": items,
        "limit": limit,
        "next": f"{href}&after={after}&limit={limit}" if after else None,
        "cursors": {"after": after},
        "total": 100,
    }
