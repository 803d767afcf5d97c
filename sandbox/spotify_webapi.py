"""The sandbox's Web API handlers (`/v1/...`): the endpoints a Development-Mode app still has.

Authentication, the allow-list, faults and removed endpoints are handled before these run (see
`SpotifySandbox`); each handler checks its own scopes, parameters and resources.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from sandbox.spotify_catalog import CatalogData, is_spotify_id, make_id, matches, search_terms
from sandbox.spotify_faults import API_PREFIX
from sandbox.spotify_http import ApiError, json_response
from sandbox.spotify_oauth import Grant
from sandbox.spotify_render import Json, Renderer, paging, timestamp
from sandbox.spotify_users import TIME_RANGES, Playlist, SandboxUser

T = TypeVar("T")

MAX_LIBRARY_URIS = 40
MAX_PLAYLIST_ITEMS = 100
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
_CONTENT_KINDS = ("track", "album", "show", "episode", "audiobook")
_LIBRARY_KINDS = (*_CONTENT_KINDS, "artist", "user", "playlist")
_WRITE_SCOPES = {
    **dict.fromkeys(_CONTENT_KINDS, ("user-library-modify",)),
    "artist": ("user-follow-modify",),
    "user": ("user-follow-modify",),
    "playlist": ("playlist-modify-public", "playlist-modify-private"),
}
_READ_SCOPES = {
    **dict.fromkeys(_CONTENT_KINDS, ("user-library-read",)),
    "artist": ("user-follow-read",),
    "user": ("user-follow-read",),
    "playlist": ("playlist-read-private",),
}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the grant behind the bearer token and its user (None: an app token)."""

    grant: Grant
    user: SandboxUser | None

    def require(self, *any_of: str) -> SandboxUser:
        """The calling user, if the token is a user's and holds one of `any_of` (if given)."""
        if self.user is None or (any_of and not set(any_of) & set(self.grant.scopes)):
            raise ApiError(403, "Insufficient client scope")
        return self.user


CALLER = web.RequestKey("sandbox_caller", Caller)


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None


def _uris_param(request: web.Request, kinds: Sequence[str]) -> list[tuple[str, str, str]]:
    """(uri, kind, id) for each URI of the `uris` query parameter (at most 40)."""
    raw = request.query.get("uris", "")
    if not raw:
        raise ApiError(400, "Missing required parameter: uris")
    uris = [uri.strip() for uri in raw.split(",")]
    if len(uris) > MAX_LIBRARY_URIS:
        raise ApiError(400, f"Too many ids requested: at most {MAX_LIBRARY_URIS} URIs")
    parsed = []
    for uri in uris:
        scheme, _, rest = uri.partition(":")
        kind, _, item_id = rest.partition(":")
        if scheme != "spotify" or kind not in kinds or not item_id:
            raise ApiError(400, f"Invalid URI: {uri}")
        if kind != "user" and not is_spotify_id(item_id):
            raise ApiError(400, f"Invalid base62 id: {uri}")
        parsed.append((uri, kind, item_id))
    return parsed


class WebApi:
    def __init__(
        self,
        catalog: CatalogData,
        renderer: Renderer,
        *,
        users: Mapping[str, SandboxUser],
        playlists: dict[str, Playlist],
    ) -> None:
        self.catalog = catalog
        self.render = renderer
        self.users = users
        self.playlists = playlists
        self._created = itertools.count()
        self._collections: dict[str, Mapping[str, object]] = {
            "track": catalog.tracks,
            "album": catalog.albums,
            "artist": catalog.artists,
            "show": catalog.shows,
            "episode": catalog.episodes,
            "audiobook": catalog.audiobooks,
            "playlist": playlists,
            "user": users,
        }

    def add_routes(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Callable[[web.Request], Any]]] = [
            ("GET", "/me", self.me),
            ("GET", "/me/top/artists", self.top_artists),
            ("GET", "/me/top/tracks", self.top_tracks),
            ("GET", "/me/following", self.followed_artists),
            ("GET", "/me/playlists", self.my_playlists),
            ("POST", "/me/playlists", self.create_playlist),
            ("PUT", "/me/library", self.save),
            ("DELETE", "/me/library", self.remove),
            ("GET", "/me/library/contains", self.contains),
            ("GET", "/search", self.search),
            ("GET", "/playlists/{id}", self.playlist),
            ("GET", "/playlists/{id}/items", self.playlist_items),
            ("POST", "/playlists/{id}/items", self.add_playlist_items),
        ]
        for kind in _CONTENT_KINDS:
            routes.append(("GET", f"/me/{kind}s", self._saved_handler(kind)))
        for kind in (*_CONTENT_KINDS, "artist"):
            routes.append(("GET", f"/{kind}s/{{id}}", self._item_handler(kind)))
        for method, path, handler in routes:
            app.router.add_route(method, API_PREFIX + path, handler)

    # Helpers

    def _page(
        self,
        request: web.Request,
        items: Sequence[T],
        render: Callable[[T], Json],
        *,
        default_limit: int = 20,
        max_limit: int = 50,
        max_offset: int | None = None,
    ) -> Json:
        limit = _int_param(request, "limit", default_limit)
        offset = _int_param(request, "offset", 0)
        if not 1 <= limit <= max_limit:
            raise ApiError(400, "Invalid limit")
        if offset < 0 or (max_offset is not None and offset > max_offset):
            raise ApiError(400, "Invalid offset")
        others = [
            (key, value) for key, value in request.query.items() if key not in {"limit", "offset"}
        ]
        base = f"{self.render.base_url}{request.path}"

        def url(at: int) -> str:
            return f"{base}?{urlencode([*others, ('offset', at), ('limit', limit)])}"

        chosen = [render(item) for item in items[offset : offset + limit]]
        return paging(url(offset), chosen, len(items), limit, offset, url)

    def _library(self, user: SandboxUser, kind: str) -> list[tuple[str, datetime]]:
        """The user's library entries of one kind as (id, added_at), newest first."""
        prefix = f"spotify:{kind}:"
        entries = [
            (uri[len(prefix) :], at) for uri, at in user.library.items() if uri.startswith(prefix)
        ]
        return sorted(reversed(entries), key=lambda entry: entry[1], reverse=True)

    def _exists(self, kind: str, item_id: str) -> bool:
        return item_id in self._collections[kind]

    def _renderer(self, kind: str) -> Callable[[str], Json]:
        return {
            "track": self.render.track,
            "album": self.render.album,
            "artist": self.render.artist,
            "show": self.render.show,
            "episode": self.render.episode,
            "audiobook": self.render.audiobook,
        }[kind]

    def _owned_playlist(self, request: web.Request, user: SandboxUser) -> Playlist:
        playlist = self.playlists.get(request.match_info["id"])
        if playlist is None:
            raise ApiError(404, "Resource not found")
        if playlist.owner_id != user.id and not playlist.collaborative:
            raise ApiError(403, "Forbidden")
        return playlist

    # Profile and top items

    async def me(self, request: web.Request) -> web.Response:
        return json_response(self.render.private_user(request[CALLER].require()))

    async def top_artists(self, request: web.Request) -> web.Response:
        return self._top(request, "artist")

    async def top_tracks(self, request: web.Request) -> web.Response:
        return self._top(request, "track")

    def _top(self, request: web.Request, kind: str) -> web.Response:
        user = request[CALLER].require("user-top-read")
        time_range = request.query.get("time_range", "medium_term")
        if time_range not in TIME_RANGES:
            raise ApiError(400, "Invalid time range")
        ids = (user.top_artists if kind == "artist" else user.top_tracks)[time_range]
        return json_response(self._page(request, ids, self._renderer(kind)))

    # Library

    def _saved_handler(self, kind: str) -> Callable[[web.Request], Any]:
        render = self._renderer(kind)
        render_saved = self.render.simple_show if kind == "show" else render

        async def saved(request: web.Request) -> web.Response:
            user = request[CALLER].require("user-library-read")
            page = self._page(
                request,
                self._library(user, kind),
                lambda entry: {"added_at": timestamp(entry[1]), kind: render_saved(entry[0])},
            )
            return json_response(page)

        return saved

    async def followed_artists(self, request: web.Request) -> web.Response:
        user = request[CALLER].require("user-follow-read")
        if request.query.get("type") != "artist":
            raise ApiError(400, "Invalid type: only artist is supported")
        limit = _int_param(request, "limit", 20)
        if not 1 <= limit <= 50:
            raise ApiError(400, "Invalid limit")
        ids = [item_id for item_id, _ in self._library(user, "artist")]
        after = request.query.get("after")
        start = ids.index(after) + 1 if after in ids else (len(ids) if after else 0)
        chosen = ids[start : start + limit]
        base = f"{self.render.base_url}{request.path}"
        page: Json = {
            "href": f"{base}?{urlencode(request.query)}",
            "items": [self.render.artist(item_id) for item_id in chosen],
            "limit": limit,
            "cursors": {},
            "total": len(ids),
        }
        if start + limit < len(ids):
            # The description types `next` and `cursors.after` as non-null strings: on the last
            # page they are left out rather than sent as null.
            page["cursors"] = {"after": chosen[-1]}
            page["next"] = (
                f"{base}?{urlencode({'type': 'artist', 'after': chosen[-1], 'limit': limit})}"
            )
        return json_response({"artists": page})

    async def save(self, request: web.Request) -> web.Response:
        user = request[CALLER].require()
        items = self._checked_uris(request, _WRITE_SCOPES, must_exist=True)
        now = datetime.now(UTC)
        for uri, _, _ in items:
            user.library.setdefault(uri, now)
        return web.Response(status=200)

    async def remove(self, request: web.Request) -> web.Response:
        user = request[CALLER].require()
        for uri, _, _ in self._checked_uris(request, _WRITE_SCOPES, must_exist=True):
            user.library.pop(uri, None)
        return web.Response(status=200)

    async def contains(self, request: web.Request) -> web.Response:
        user = request[CALLER].require()
        items = self._checked_uris(request, _READ_SCOPES, must_exist=False)
        return json_response([uri in user.library for uri, _, _ in items])

    def _checked_uris(
        self, request: web.Request, scopes: Mapping[str, tuple[str, ...]], *, must_exist: bool
    ) -> list[tuple[str, str, str]]:
        """The request's URIs, once the token holds a scope for each of their kinds."""
        items = _uris_param(request, _LIBRARY_KINDS)
        for uri, kind, item_id in items:
            request[CALLER].require(*scopes[kind])
            if must_exist and not self._exists(kind, item_id):
                raise ApiError(400, f"Invalid URI: {uri} does not exist")
        return items

    # Playlists

    async def my_playlists(self, request: web.Request) -> web.Response:
        user = request[CALLER].require("playlist-read-private")
        playlists = [
            self.playlists[item_id]
            for item_id, _ in self._library(user, "playlist")
            if item_id in self.playlists
        ]
        return json_response(self._page(request, playlists, self.render.simple_playlist))

    async def create_playlist(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        name = body.get("name")
        public = body.get("public", True)
        collaborative = body.get("collaborative", False)
        description = body.get("description", "")
        if not isinstance(name, str) or not name:
            raise ApiError(400, "Missing required field: name")
        if not isinstance(public, bool) or not isinstance(collaborative, bool):
            raise ApiError(400, "Invalid value for public or collaborative")
        if not isinstance(description, str):
            raise ApiError(400, "Invalid description")
        if public and collaborative:
            raise ApiError(400, "A collaborative playlist cannot be public")
        user = request[CALLER].require(
            "playlist-modify-public" if public else "playlist-modify-private"
        )
        playlist = Playlist(
            id=make_id(self.catalog.seed, "playlist", ("created", next(self._created))),
            name=name,
            description=description,
            owner_id=user.id,
            public=public,
            collaborative=collaborative,
        )
        self.playlists[playlist.id] = playlist
        user.playlists.append(playlist.id)
        user.library[playlist.uri] = datetime.now(UTC)
        return json_response(self.render.playlist(playlist, user.id), 201)

    async def playlist(self, request: web.Request) -> web.Response:
        playlist = self.playlists.get(request.match_info["id"])
        if playlist is None:
            raise ApiError(404, "Resource not found")
        viewer = request[CALLER].user
        return json_response(self.render.playlist(playlist, viewer.id if viewer else None))

    async def playlist_items(self, request: web.Request) -> web.Response:
        user = request[CALLER].require("playlist-read-private")
        playlist = self._owned_playlist(request, user)
        page = self._page(request, playlist.entries, self.render.playlist_item)
        return json_response(page)

    async def add_playlist_items(self, request: web.Request) -> web.Response:
        user = request[CALLER].require("playlist-modify-public", "playlist-modify-private")
        playlist = self._owned_playlist(request, user)
        body = await _json_body(request) if request.body_exists else {}
        query_uris = request.query.get("uris")
        uris = query_uris.split(",") if query_uris else body.get("uris")
        if not isinstance(uris, list) or not uris:
            raise ApiError(400, "No uris provided")
        if len(uris) > MAX_PLAYLIST_ITEMS:
            raise ApiError(400, f"Too many items: at most {MAX_PLAYLIST_ITEMS} per request")
        for uri in uris:
            kind, _, item_id = str(uri).removeprefix("spotify:").partition(":")
            if not str(uri).startswith("spotify:") or kind not in {"track", "episode"}:
                raise ApiError(400, f"Invalid track uri: {uri}")
            if not self._exists(kind, item_id):
                raise ApiError(400, f"Invalid track uri: {uri}")
        in_query = "position" in request.query
        position = _int_param(request, "position", 0) if in_query else body.get("position")
        if position is not None and (not isinstance(position, int) or position < 0):
            raise ApiError(400, "Invalid position")
        playlist.add([str(uri) for uri in uris], user.id, datetime.now(UTC), position)
        return json_response({"snapshot_id": playlist.snapshot_id}, 201)

    # Catalog

    def _item_handler(self, kind: str) -> Callable[[web.Request], Any]:
        render = self._renderer(kind)

        async def item(request: web.Request) -> web.Response:
            item_id = request.match_info["id"]
            if not is_spotify_id(item_id):
                raise ApiError(400, "Invalid base62 id")
            if not self._exists(kind, item_id):
                raise ApiError(404, "Resource not found")
            return json_response(render(item_id))

        return item

    async def search(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "").strip()
        if not query:
            raise ApiError(400, "No search query")
        types = [kind for kind in request.query.get("type", "").split(",") if kind]
        if not types:
            raise ApiError(400, "Missing parameter type")
        for kind in types:
            if kind not in SEARCH_TYPES:
                raise ApiError(400, f"Bad search type field {kind}")
        terms = search_terms(query)
        results: Json = {}
        for kind in dict.fromkeys(types):
            results[f"{kind}s"] = self._page(
                request,
                self._search_ids(kind, terms),
                self._search_renderer(kind),
                default_limit=5,
                max_limit=10,
                max_offset=1000,
            )
        return json_response(results)

    def _search_ids(self, kind: str, terms: list[str]) -> list[str]:
        if kind != "playlist":
            return matches(self.catalog.search_text[kind], terms)
        return [
            playlist.id
            for playlist in self.playlists.values()
            if playlist.public
            and all(term in f"{playlist.name} {playlist.description}".lower() for term in terms)
        ]

    def _search_playlist(self, playlist_id: str) -> Json:
        return self.render.simple_playlist(self.playlists[playlist_id])

    def _search_renderer(self, kind: str) -> Callable[[str], Json]:
        return {
            "track": self.render.track,
            "album": self.render.simple_album,
            "artist": self.render.artist,
            "show": self.render.simple_show,
            "episode": self.render.simple_episode,
            "audiobook": self.render.simple_audiobook,
            "playlist": self._search_playlist,
        }[kind]


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "Error parsing JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Error parsing JSON.")
    return body
