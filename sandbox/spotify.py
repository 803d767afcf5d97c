"""A stateful local stand-in for Spotify's accounts service and Web API.

One aiohttp server answers `/authorize` and `/api/token` (accounts), `/v1/...` (the Web API,
real paths and shapes) and `/images/{id}.png` (generated cover art). Tests, benchmarks and the
demo start one per use::

    async with SpotifySandbox(seed=1) as sandbox:
        tokens = sandbox.issue_tokens("user0")
        ...  # call sandbox.api_url with tokens["access_token"]

Every request is recorded in `requests`; `faults` injects rate limits, server errors and
latency; `revoke`, `expire_access_tokens` and `SandboxUser.allow_listed` play out revoked
grants, expired tokens and Development Mode's allow-list. `play` and `set_currently_playing`
script what users listen to; `presence_track` gives the same track as Discord shows it.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.spotify.oauth import SCOPES
from sandbox.discord_presence import SpotifyTrack
from sandbox.spotify_catalog import (
    EDITORIAL_OWNER,
    SEED_EPOCH,
    CatalogData,
    Track,
    build_catalog,
)
from sandbox.spotify_faults import API_PREFIX, SandboxFaults, path_matches
from sandbox.spotify_history import (
    Listening,
    NowPlaying,
    Play,
    check_context_uri,
    epoch_ms,
    from_epoch_ms,
)
from sandbox.spotify_http import RESPONSE_JSON, ApiError
from sandbox.spotify_images import MAX_SIZE, MIN_SIZE, cover_png
from sandbox.spotify_listening import ListeningApi
from sandbox.spotify_oauth import AccountsService
from sandbox.spotify_removed import removed_endpoint
from sandbox.spotify_render import Renderer
from sandbox.spotify_users import (
    Playlist,
    PlaylistEntry,
    SandboxUser,
    UserData,
    account_id_for,
    display_name_for,
    generate_user,
)
from sandbox.spotify_webapi import CALLER, Caller, WebApi

__all__ = ["Play", "Playlist", "RecordedRequest", "SandboxUser", "SpotifySandbox"]

NOT_ALLOW_LISTED = "User not registered in the Developer Dashboard"
_SECRET_QUERY_KEYS = frozenset({"code", "state"})


@dataclass
class RecordedRequest:
    """One request the sandbox answered. `path` is the full path (`/v1/me`, `/api/token`)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    """0 while (or if never) answered."""
    user_id: str | None
    at: float
    """`time.monotonic()` when the request arrived."""
    response_json: Any = None
    request_json: Any = None
    """The JSON body the client sent (Web API requests only)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers worth asserting on (`Retry-After`)."""


class SandboxCatalog:
    """The seeded catalog (shared, read-only) plus this sandbox's playlists (mutable)."""

    def __init__(self, data: CatalogData) -> None:
        self.data = data
        self.artists = data.artists
        self.albums = data.albums
        self.tracks = data.tracks
        self.shows = data.shows
        self.episodes = data.episodes
        self.audiobooks = data.audiobooks
        self.chapters = data.chapters
        self.playlists: dict[str, Playlist] = {}
        for template in data.editorial_playlists:
            playlist = Playlist(
                template.id, template.name, template.description, EDITORIAL_OWNER, public=True
            )
            playlist.entries = [
                PlaylistEntry(f"spotify:track:{track_id}", SEED_EPOCH, EDITORIAL_OWNER)
                for track_id in template.track_ids
            ]
            self.playlists[playlist.id] = playlist


class SpotifySandbox:
    def __init__(
        self,
        *,
        seed: int = 1,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        redirect_uris: Collection[str] = (),
        users: int = 8,
    ) -> None:
        self.seed = seed
        self.catalog = SandboxCatalog(build_catalog(seed))
        self.accounts = AccountsService(
            client_id=client_id, client_secret=client_secret, redirect_uris=redirect_uris
        )
        """OAuth state; its `refresh_token_rotation` and `code_lifetime` may be changed."""
        self.faults = SandboxFaults()
        self.users: dict[str, SandboxUser] = {}
        self.requests: list[RecordedRequest] = []
        self.authorizing_user: str | None = None
        """Who answers the next consent pages (default: the first user)."""
        self._deny_next = False
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self.add_users(users)

    # Lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        bound_port = sock.getsockname()[1]
        url_host = f"[{host}]" if ":" in host else host
        self._base_url = f"http://{url_host}:{bound_port}"
        renderer = Renderer(
            self.catalog.data,
            base_url=self._base_url,
            users=self.users,
            playlists=self.catalog.playlists,
        )
        api = WebApi(
            self.catalog.data, renderer, users=self.users, playlists=self.catalog.playlists
        )
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/authorize", self._consent)
        app.router.add_post("/api/token", self.accounts.token)
        app.router.add_get("/images/{id}.png", self._image)
        api.add_routes(app)
        ListeningApi(renderer, self._listening_of, self._now_ms).add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the sandbox is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def accounts_url(self) -> str:
        return self.base_url

    # Users and tokens

    def add_user(
        self,
        user_id: str | None = None,
        *,
        display_name: str | None = None,
        allow_listed: bool = True,
    ) -> SandboxUser:
        """A new user with seeded tastes and library (generated when first read)."""
        if user_id is None:
            number = len(self.users)
            while f"user{number}" in self.users:
                number += 1
            user_id = f"user{number}"
        if user_id in self.users:
            raise ValueError(f"user {user_id!r} already exists")
        user = SandboxUser(
            user_id,
            account_id=account_id_for(self.seed, user_id),
            display_name=display_name or display_name_for(self.seed, user_id),
            allow_listed=allow_listed,
            load=self._load_user,
        )
        self.users[user_id] = user
        return user

    def add_users(self, count: int, *, allow_listed: bool = True) -> list[SandboxUser]:
        """`count` more users; cheap, as their data is generated only when read."""
        return [self.add_user(allow_listed=allow_listed) for _ in range(count)]

    def _load_user(self, user: SandboxUser) -> UserData:
        data, owned = generate_user(self.catalog.data, user.id)
        for playlist in owned:
            self.catalog.playlists[playlist.id] = playlist
        return data

    def issue_tokens(
        self, user_id: str, scopes: Collection[str] = SCOPES, expires_in: int = 3600
    ) -> dict[str, Any]:
        """Tokens as the token endpoint would give them, without the consent round trip."""
        if user_id not in self.users:
            raise KeyError(user_id)
        return self.accounts.issue_tokens(user_id, scopes, expires_in)

    def expire_access_tokens(self, user_id: str) -> None:
        self.accounts.expire_access_tokens(user_id)

    def revoke(self, user_id: str) -> None:
        """The user removed the app: access tokens get 401, refreshes `invalid_grant`."""
        self.accounts.revoke(user_id)

    def deny_next_authorization(self) -> None:
        """The next consent page is answered with Cancel."""
        self._deny_next = True

    def expire_authorization_codes(self) -> None:
        self.accounts.expire_authorization_codes()

    # Listening

    def play(
        self,
        user_id: str,
        track_id: str,
        played_at: datetime | None = None,
        *,
        context_uri: str | None = None,
    ) -> Play:
        """`user_id` played `track_id`; `played_at` (default now) is what recently-played
        reports. Only the last 50 plays are kept."""
        self._track(track_id)
        check_context_uri(context_uri)
        moment = from_epoch_ms(epoch_ms(played_at or datetime.now(UTC)))
        play = Play(track_id, moment, context_uri)
        self._listening_of(user_id).add(play)
        return play

    def set_currently_playing(
        self,
        user_id: str,
        track_id: str,
        *,
        progress_ms: int = 0,
        is_playing: bool = True,
        context_uri: str | None = None,
    ) -> None:
        """`track_id` plays now (or is paused at `progress_ms`); progress advances while
        playing, up to the track's length."""
        track = self._track(track_id)
        check_context_uri(context_uri)
        self._listening_of(user_id).now = NowPlaying(
            track_id,
            track.duration_ms,
            started_ms=self._now_ms() - progress_ms,
            is_playing=is_playing,
            paused_progress_ms=progress_ms,
            context_uri=context_uri,
        )

    def clear_currently_playing(self, user_id: str) -> None:
        """Nothing plays: currently-playing answers 204."""
        self._listening_of(user_id).now = None

    def recent_plays(self, user_id: str) -> list[Play]:
        """The plays recently-played can still report, oldest first."""
        return list(self._listening_of(user_id).plays)

    def presence_track(self, track_id: str) -> SpotifyTrack:
        """The track as a Discord Spotify activity shows it (for the Discord stand-in)."""
        track = self._track(track_id)
        return SpotifyTrack(
            id=track.id,
            title=track.name,
            artists=tuple(self.catalog.artists[a].name for a in track.artist_ids),
            album=self.catalog.albums[track.album_id].name,
            cover_id=track.album_id,  # the sandbox serves covers by album id
            duration_ms=track.duration_ms,
        )

    def _track(self, track_id: str) -> Track:
        try:
            return self.catalog.tracks[track_id]
        except KeyError:
            raise KeyError(f"no track {track_id!r} in the sandbox catalog") from None

    def _listening_of(self, user_id: str) -> Listening:
        try:
            return self.users[user_id].listening
        except KeyError:
            raise KeyError(f"no sandbox user {user_id!r}") from None

    @staticmethod
    def _now_ms() -> int:
        return epoch_ms(datetime.now(UTC))

    # Catalog shortcuts

    def artist_ids(self) -> list[str]:
        return list(self.catalog.artists)

    def album_ids(self) -> list[str]:
        return list(self.catalog.albums)

    def track_ids(self) -> list[str]:
        return list(self.catalog.tracks)

    def show_ids(self) -> list[str]:
        return list(self.catalog.shows)

    def episode_ids(self) -> list[str]:
        return list(self.catalog.episodes)

    def audiobook_ids(self) -> list[str]:
        return list(self.catalog.audiobooks)

    def playlist_ids(self) -> list[str]:
        return list(self.catalog.playlists)

    # Request log

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        """Recorded requests under a path prefix, full (`/v1/me`) or API-relative (`/me`)."""
        return [record for record in self.requests if path_matches(record.path, path_prefix)]

    def clear_requests(self) -> None:
        self.requests.clear()

    # Server

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        bearer = request.headers.get("Authorization", "")
        token = bearer[len("Bearer ") :] if bearer.startswith("Bearer ") else None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query={
                key: "<redacted>" if key in _SECRET_QUERY_KEYS else value
                for key, value in request.query.items()
            },
            status=0,
            user_id=self.accounts.owner(token),
            at=time.monotonic(),
        )
        self.requests.append(record)
        is_api = path_matches(request.path, None)
        if is_api and request.content_type == "application/json" and request.body_exists:
            try:
                record.request_json = await request.json()
            except ValueError:
                record.request_json = None
        try:
            response = await self._dispatch(request, handler, token, is_api=is_api)
        except ApiError as error:
            response = error.response()
        except web.HTTPException as error:
            record.status = error.status
            raise
        record.status = response.status
        record.response_json = response.get(RESPONSE_JSON)
        if "Retry-After" in response.headers:
            record.headers["Retry-After"] = response.headers["Retry-After"]
        return response

    async def _dispatch(
        self, request: web.Request, handler: Any, token: str | None, *, is_api: bool
    ) -> web.StreamResponse:
        delay = self.faults.take_delay(request.path)
        if delay:
            await asyncio.sleep(delay)
        fault = self.faults.take_failure(request.path)
        if fault is not None:
            headers = {}
            if fault.retry_after is not None:
                retry_after = fault.retry_after
                headers["Retry-After"] = (
                    str(int(retry_after)) if retry_after == int(retry_after) else str(retry_after)
                )
            raise ApiError(fault.status, fault.message, reason=fault.reason, headers=headers)
        if not is_api:
            return await handler(request)

        grant = self.accounts.check(token)
        user = self.users.get(grant.user_id) if grant.user_id else None
        if user is not None and not user.allow_listed:
            raise ApiError(403, NOT_ALLOW_LISTED)
        removed = removed_endpoint(request.method, request.path)
        if removed is not None:
            raise ApiError(removed.status, "Not found" if removed.status == 404 else "Forbidden")
        request[CALLER] = Caller(grant, user)
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPMethodNotAllowed:
            raise ApiError(405, "Method not allowed") from None
        except web.HTTPNotFound:
            raise ApiError(404, "Service not found") from None
        return response

    async def _authorize(self, request: web.Request) -> web.Response:
        return self.accounts.authorize(request.query, user_id=self._logged_in())

    async def _consent(self, request: web.Request) -> web.Response:
        posted = await request.post()
        form = {key: value for key, value in posted.items() if isinstance(value, str)}
        deny, self._deny_next = self._deny_next, False
        return self.accounts.consent(form, user_id=self._logged_in(), deny=deny)

    def _logged_in(self) -> str:
        return self.authorizing_user or next(iter(self.users))

    async def _image(self, request: web.Request) -> web.Response:
        try:
            size = int(request.query.get("size", "300"))
        except ValueError:
            size = 0
        if not MIN_SIZE <= size <= MAX_SIZE:
            return web.Response(status=400, text=f"size must be between {MIN_SIZE} and {MAX_SIZE}")
        png = await asyncio.to_thread(cover_png, request.match_info["id"], size)
        return web.Response(body=png, content_type="image/png")
