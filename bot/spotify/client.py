"""The Spotify Web API over one shared aiohttp session.

`SpotifyClient` owns what is shared by every member: the session, the 429 cooldown (Spotify
rate-limits the app, not the member) and single-flight token refreshes. `SpotifyUserApi` is
one member's view of the endpoints, with the wait cap of an interactive or background caller;
`SpotifyAppApi` is the app's own view (client-credentials token: catalog reads only).
"""

from __future__ import annotations

import asyncio
import functools
import json as jsonlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ValidationError

from bot.domain import DEFAULT_TIME_RANGE, TimeRange, TimeRangeName
from bot.spotify.errors import (
    Forbidden,
    NotAllowListed,
    QuotaExceeded,
    SpotifyError,
    SpotifyUnavailable,
)
from bot.spotify.models import (
    Album,
    Artist,
    Audiobook,
    CurrentlyPlaying,
    CursorPage,
    Episode,
    Page,
    PlayHistory,
    Playlist,
    PrivateUser,
    RecentPlays,
    SavedAlbum,
    SavedAudiobook,
    SavedEpisode,
    SavedShow,
    SavedTrack,
    SearchResults,
    Show,
    SimplePlaylist,
    Track,
)
from bot.spotify.oauth import SpotifyOAuth
from bot.spotify.paging import PAGE_SIZE, iter_cursor, iter_offset
from bot.spotify.ratelimit import Cooldown, SharedLimits
from bot.spotify.responses import (
    error_from_status,
    forbidden_error,
    parse_retry_after,
)
from bot.spotify.scopes import (
    ENDPOINT_SCOPES,
    Needs,
    library_needs,
    missing_scopes,
    playlist_create_needs,
)

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

ResponseHook = Callable[[str, str, int | None, float], None]
CooldownHook = Callable[[float], None]

DEFAULT_PERIOD = DEFAULT_TIME_RANGE.api_name
REFRESH_MARGIN = timedelta(seconds=30)
LIBRARY_CHUNK = 40
PLAYLIST_ITEMS_CHUNK = 100
SEARCH_MAX_LIMIT = 10
DEFAULT_MAX_ITEMS = 500
RECENT_MAX_PAGES = 5


class TokenProvider(Protocol):
    """One member's tokens; the client never stores them itself."""

    @property
    def key(self) -> Hashable:
        """Identifies the member: concurrent refreshes with the same key are merged."""

    @property
    def scopes(self) -> frozenset[str] | None:
        """Scopes the member granted, or None when unknown."""

    async def current_token(self) -> tuple[str, datetime]:
        """The access token and its expiry (UTC)."""

    async def refresh(self) -> str:
        """Refresh through OAuth, persist, return the new access token; may raise InvalidGrant."""


class AppTokens:
    """The app token of `SpotifyOAuth.app_token` as a `TokenProvider`."""

    def __init__(self, oauth: SpotifyOAuth) -> None:
        self._oauth = oauth
        self._last: str | None = None

    @property
    def key(self) -> Hashable:
        return ("app", id(self._oauth))

    @property
    def scopes(self) -> frozenset[str] | None:
        return None

    async def current_token(self) -> tuple[str, datetime]:
        token = await self._oauth.app_token()
        self._last = token.access_token
        return token.access_token, token.expires_at

    async def refresh(self) -> str:
        token = await self._oauth.app_token(stale=self._last)
        self._last = token.access_token
        return token.access_token


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return jsonlib.loads(raw)
    except ValueError as exc:
        raise SpotifyError("Spotify sent a response that is not JSON") from exc


def expiring(expires_at: datetime) -> bool:
    """Whether the access token expires within `REFRESH_MARGIN` (or already has)."""
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at - datetime.now(UTC) <= REFRESH_MARGIN


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


class SpotifyClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_url: str,
        timeout: float = 10,
        max_retries: int = 3,
        interactive_max_wait: float = 5,
        background_max_wait: float = 120,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        on_response: ResponseHook | None = None,
        on_cooldown: CooldownHook | None = None,
    ) -> None:
        self._session = session
        self._api_url = api_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self.interactive_max_wait = interactive_max_wait
        self.background_max_wait = background_max_wait
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self.on_response = on_response
        self.on_cooldown = on_cooldown
        self.limits: SharedLimits | None = None
        """The deployment's shared limits: told of every 429, and counts commands' requests."""
        self._cooldown = Cooldown()
        self._refreshes: dict[Hashable, asyncio.Task[str]] = {}

    def user(self, tokens: TokenProvider, *, interactive: bool = True) -> SpotifyUserApi:
        max_wait = self.interactive_max_wait if interactive else self.background_max_wait
        return SpotifyUserApi(self, tokens, max_wait=max_wait, interactive=interactive)

    def app(self, tokens: TokenProvider, *, interactive: bool = False) -> SpotifyAppApi:
        """The app's own view; `tokens` is usually `AppTokens(oauth)`."""
        max_wait = self.interactive_max_wait if interactive else self.background_max_wait
        return SpotifyAppApi(self, tokens, max_wait=max_wait, interactive=interactive)

    def cooldown_remaining(self) -> float:
        return self._cooldown.remaining()

    def hold_cooldown(self, seconds: float) -> None:
        """Pause every request for `seconds` from now: a cooldown another process was given."""
        self._cooldown.hold(seconds)

    async def request(
        self,
        tokens: TokenProvider,
        method: str,
        template: str,
        *,
        max_wait: float,
        path_args: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        needs: Needs | None = None,
        app: bool = False,
        interactive: bool = False,
    ) -> Any:
        """One API call with cooldown, token refresh, retries and typed errors; returns JSON
        (None for an empty answer such as 204). `app`: the token is the app's, not a member's,
        so a 403 says nothing about an allow-list. `interactive`: made for a command, so
        counted in the shared limits (background requests spend their own schedules instead)."""
        path = template.format(**{k: quote(v, safe="") for k, v in (path_args or {}).items()})
        url = self._api_url + path
        if needs is None:
            needs = ENDPOINT_SCOPES.get((method, template), ())
        refreshed_token: str | None = None
        failures = 0
        rate_limits = 0
        while True:
            if interactive and self.limits is not None:
                await self.limits.count_interactive()
            await self._cooldown.wait(max_wait)
            token = refreshed_token or await self._fresh_token(tokens)
            try:
                status, retry_after_header, raw = await self._send(
                    method, url, template, token, params, json
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures += 1
                if failures > self._max_retries:
                    raise SpotifyUnavailable(f"{method} {template}: {type(exc).__name__}") from exc
                log.warning("Spotify %s %s failed (%s); retrying", method, template, exc)
                await self._backoff(failures)
                continue
            if 200 <= status < 300:
                return _json(raw)
            body = raw.decode("utf-8", "replace")
            if status == 429:
                retry_after = parse_retry_after(retry_after_header)
                self._report_cooldown(self._cooldown.hold(retry_after))
                if self.limits is not None:
                    self.limits.rate_limited(retry_after)
                rate_limits += 1
                log.warning("Spotify rate limit on %s %s: %.0f s", method, template, retry_after)
                error = error_from_status(status, body, retry_after=retry_after)
                if (
                    isinstance(error, QuotaExceeded)
                    or retry_after > max_wait
                    or rate_limits > self._max_retries
                ):
                    raise error
                continue
            if status >= 500:
                failures += 1
                if failures > self._max_retries:
                    raise error_from_status(status, body)
                log.warning("Spotify %s %s answered %d; retrying", method, template, status)
                await self._backoff(failures)
                continue
            if status == 401 and refreshed_token is None:
                refreshed_token = await self._refreshed_token(tokens, stale=token)
                continue
            if status == 403:
                profile = (method, template) == ("GET", "/me")
                error = forbidden_error(
                    body,
                    missing_scopes=missing_scopes(needs, tokens.scopes),
                    profile_endpoint=profile,
                )
                if (
                    type(error) is Forbidden
                    and not profile
                    and not app
                    and await self._profile_refused(tokens, max_wait, interactive=interactive)
                ):
                    raise NotAllowListed(str(error), status=403, body=error.body) from error
                raise error
            raise error_from_status(status, body)

    async def _profile_refused(
        self, tokens: TokenProvider, max_wait: float, *, interactive: bool
    ) -> bool:
        """Whether GET /me is refused too: a 403 anywhere else is then the Development-Mode
        allow-list, which Spotify only tells apart by message text (which we never read)."""
        try:
            await self.request(tokens, "GET", "/me", max_wait=max_wait, interactive=interactive)
        except NotAllowListed:
            return True
        except SpotifyError:
            return False
        return False

    async def _send(
        self,
        method: str,
        url: str,
        template: str,
        token: str,
        params: Mapping[str, str] | None,
        json: Any,
    ) -> tuple[int, str | None, bytes]:
        started = time.monotonic()
        status: int | None = None
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self._timeout,
            ) as response:
                raw = await response.read()
                status = response.status
                return status, response.headers.get("Retry-After"), raw
        finally:
            self._report(method, template, status, time.monotonic() - started)

    def _report(self, method: str, template: str, status: int | None, seconds: float) -> None:
        hook = self.on_response
        if hook is None:
            return
        try:
            hook(method, template, status, seconds)
        except Exception:
            log.exception("on_response hook failed")

    def _report_cooldown(self, added: float) -> None:
        hook = self.on_cooldown
        if hook is None:
            return
        try:
            hook(added)
        except Exception:
            log.exception("on_cooldown hook failed")

    async def _backoff(self, attempt: int) -> None:
        delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))

    async def _fresh_token(self, tokens: TokenProvider) -> str:
        token, expires_at = await tokens.current_token()
        if expiring(expires_at):
            return await self._refreshed_token(tokens, stale=token)
        return token

    async def _refreshed_token(self, tokens: TokenProvider, *, stale: str) -> str:
        """A token newer than `stale`, with at most one refresh in flight per member."""
        task = self._refreshes.get(tokens.key)
        if task is None:
            task = asyncio.create_task(self._refresh_unless_done(tokens, stale))
            self._refreshes[tokens.key] = task
            task.add_done_callback(functools.partial(self._forget_refresh, tokens.key))
        return await asyncio.shield(task)

    @staticmethod
    async def _refresh_unless_done(tokens: TokenProvider, stale: str) -> str:
        token, expires_at = await tokens.current_token()
        if token != stale and not expiring(expires_at):
            return token
        return await tokens.refresh()

    def _forget_refresh(self, key: Hashable, task: asyncio.Task[str]) -> None:
        if self._refreshes.get(key) is task:
            del self._refreshes[key]
        if not task.cancelled():
            task.exception()


class SpotifyUserApi:
    """The endpoints, for one member."""

    def __init__(
        self,
        client: SpotifyClient,
        tokens: TokenProvider,
        *,
        max_wait: float,
        interactive: bool = False,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._max_wait = max_wait
        self._interactive = interactive

    async def _call(
        self,
        method: str,
        template: str,
        *,
        path_args: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        needs: Needs | None = None,
    ) -> Any:
        return await self._client.request(
            self._tokens,
            method,
            template,
            max_wait=self._max_wait,
            path_args=path_args,
            params=params,
            json=json,
            needs=needs,
            interactive=self._interactive,
        )

    async def _one(self, template: str, model: type[M], item_id: str) -> M:
        return _parse(model, await self._call("GET", template, path_args={"id": item_id}))

    async def _page(
        self, template: str, model: type[M], limit: int, offset: int, **extra: str
    ) -> M:
        params = {"limit": str(_clamp(limit, 1, PAGE_SIZE)), "offset": str(max(0, offset))}
        return _parse(model, await self._call("GET", template, params={**params, **extra}))

    async def me(self) -> PrivateUser:
        return _parse(PrivateUser, await self._call("GET", "/me"))

    async def top_artists(
        self, time_range: TimeRangeName = DEFAULT_PERIOD, limit: int = 50, offset: int = 0
    ) -> Page[Artist]:
        _check_time_range(time_range)
        return await self._page(
            "/me/top/artists", Page[Artist], limit, offset, time_range=time_range
        )

    async def top_tracks(
        self, time_range: TimeRangeName = DEFAULT_PERIOD, limit: int = 50, offset: int = 0
    ) -> Page[Track]:
        _check_time_range(time_range)
        return await self._page("/me/top/tracks", Page[Track], limit, offset, time_range=time_range)

    async def saved_tracks(self, limit: int = 50, offset: int = 0) -> Page[SavedTrack]:
        return await self._page("/me/tracks", Page[SavedTrack], limit, offset)

    async def saved_albums(self, limit: int = 50, offset: int = 0) -> Page[SavedAlbum]:
        return await self._page("/me/albums", Page[SavedAlbum], limit, offset)

    async def saved_shows(self, limit: int = 50, offset: int = 0) -> Page[SavedShow]:
        return await self._page("/me/shows", Page[SavedShow], limit, offset)

    async def saved_episodes(self, limit: int = 50, offset: int = 0) -> Page[SavedEpisode]:
        return await self._page("/me/episodes", Page[SavedEpisode], limit, offset)

    async def saved_audiobooks(self, limit: int = 50, offset: int = 0) -> Page[SavedAudiobook]:
        return await self._page("/me/audiobooks", Page[SavedAudiobook], limit, offset)

    async def my_playlists(self, limit: int = 50, offset: int = 0) -> Page[SimplePlaylist]:
        return await self._page("/me/playlists", Page[SimplePlaylist], limit, offset)

    async def followed_artists(
        self, limit: int = 50, after: str | None = None
    ) -> CursorPage[Artist]:
        params = {"type": "artist", "limit": str(_clamp(limit, 1, PAGE_SIZE))}
        if after is not None:
            params["after"] = after
        data = await self._call("GET", "/me/following", params=params)
        return _parse(CursorPage[Artist], data.get("artists") if isinstance(data, dict) else None)

    def iter_top_artists(
        self, time_range: TimeRangeName = DEFAULT_PERIOD, max_items: int = 50
    ) -> AsyncIterator[Artist]:
        _check_time_range(time_range)
        return iter_offset(
            lambda limit, offset: self.top_artists(time_range, limit, offset), max_items=max_items
        )

    def iter_top_tracks(
        self, time_range: TimeRangeName = DEFAULT_PERIOD, max_items: int = 50
    ) -> AsyncIterator[Track]:
        _check_time_range(time_range)
        return iter_offset(
            lambda limit, offset: self.top_tracks(time_range, limit, offset), max_items=max_items
        )

    def iter_saved_tracks(self, max_items: int = DEFAULT_MAX_ITEMS) -> AsyncIterator[SavedTrack]:
        return iter_offset(self.saved_tracks, max_items=max_items)

    def iter_saved_albums(self, max_items: int = DEFAULT_MAX_ITEMS) -> AsyncIterator[SavedAlbum]:
        return iter_offset(self.saved_albums, max_items=max_items)

    def iter_saved_shows(self, max_items: int = DEFAULT_MAX_ITEMS) -> AsyncIterator[SavedShow]:
        return iter_offset(self.saved_shows, max_items=max_items)

    def iter_saved_episodes(
        self, max_items: int = DEFAULT_MAX_ITEMS
    ) -> AsyncIterator[SavedEpisode]:
        return iter_offset(self.saved_episodes, max_items=max_items)

    def iter_saved_audiobooks(
        self, max_items: int = DEFAULT_MAX_ITEMS
    ) -> AsyncIterator[SavedAudiobook]:
        return iter_offset(self.saved_audiobooks, max_items=max_items)

    def iter_playlists(self, max_items: int = DEFAULT_MAX_ITEMS) -> AsyncIterator[SimplePlaylist]:
        return iter_offset(self.my_playlists, max_items=max_items)

    def iter_followed_artists(self, max_items: int = DEFAULT_MAX_ITEMS) -> AsyncIterator[Artist]:
        return iter_cursor(self.followed_artists, max_items=max_items)

    async def search(
        self, query: str, types: Sequence[str], limit: int = 10, offset: int = 0
    ) -> SearchResults:
        params = {
            "q": query,
            "type": ",".join(types),
            "limit": str(_clamp(limit, 1, SEARCH_MAX_LIMIT)),
            "offset": str(max(0, offset)),
        }
        return _parse(SearchResults, await self._call("GET", "/search", params=params))

    async def track(self, id: str) -> Track:
        return await self._one("/tracks/{id}", Track, id)

    async def album(self, id: str) -> Album:
        return await self._one("/albums/{id}", Album, id)

    async def artist(self, id: str) -> Artist:
        return await self._one("/artists/{id}", Artist, id)

    async def show(self, id: str) -> Show:
        return await self._one("/shows/{id}", Show, id)

    async def episode(self, id: str) -> Episode:
        return await self._one("/episodes/{id}", Episode, id)

    async def audiobook(self, id: str) -> Audiobook:
        return await self._one("/audiobooks/{id}", Audiobook, id)

    async def playlist(self, id: str) -> Playlist:
        return await self._one("/playlists/{id}", Playlist, id)

    async def save(self, uris: Sequence[str]) -> None:
        """Save tracks, albums, shows, episodes, audiobooks; follow artists, users, playlists."""
        await self._library("PUT", uris)

    async def remove(self, uris: Sequence[str]) -> None:
        await self._library("DELETE", uris)

    async def _library(self, method: str, uris: Sequence[str]) -> None:
        for chunk in _chunks(uris, LIBRARY_CHUNK):
            await self._call(
                method,
                "/me/library",
                params={"uris": ",".join(chunk)},
                needs=library_needs(chunk, write=True),
            )

    async def contains(self, uris: Sequence[str]) -> list[bool]:
        found: list[bool] = []
        for chunk in _chunks(uris, LIBRARY_CHUNK):
            data = await self._call(
                "GET",
                "/me/library/contains",
                params={"uris": ",".join(chunk)},
                needs=library_needs(chunk, write=False),
            )
            if not isinstance(data, list) or len(data) != len(chunk):
                raise SpotifyError("unexpected answer from /me/library/contains", body=str(data))
            found.extend(bool(flag) for flag in data)
        return found

    async def currently_playing(self) -> CurrentlyPlaying | None:
        """What the member plays now; None when nothing does (204)."""
        data = await self._call("GET", "/me/player/currently-playing")
        return None if data is None else _parse(CurrentlyPlaying, data)

    async def recently_played_page(
        self, *, after_ms: int | None = None, before_ms: int | None = None, limit: int = 50
    ) -> CursorPage[PlayHistory]:
        """One page of recently-played, newest first; cursors are Unix ms, exclusive."""
        if after_ms is not None and before_ms is not None:
            raise ValueError("give after_ms or before_ms, not both")
        params = {"limit": str(_clamp(limit, 1, PAGE_SIZE))}
        if after_ms is not None:
            params["after"] = str(after_ms)
        if before_ms is not None:
            params["before"] = str(before_ms)
        data = await self._call("GET", "/me/player/recently-played", params=params)
        return _parse(CursorPage[PlayHistory], data)

    async def recently_played(
        self, after_ms: int | None = None, limit: int = 50, max_pages: int = RECENT_MAX_PAGES
    ) -> RecentPlays:
        """The plays after `after_ms` (Unix ms; None: the newest page), oldest first, and the
        cursor for the next poll. Pages forward while they come back full, at most
        `max_pages` requests; Spotify keeps only the last 50 plays, so poll before a member
        plays more than that."""
        found: dict[tuple[int, str], PlayHistory] = {}
        cursor = after_ms
        for _ in range(max(1, max_pages)):
            page = await self.recently_played_page(after_ms=cursor, limit=limit)
            new = [
                play
                for play in page.items
                if (cursor is None or play.played_at_ms > cursor)
                and (play.played_at_ms, play.track.id) not in found
            ]
            for play in new:
                found[(play.played_at_ms, play.track.id)] = play
            if not new:
                break
            cursor = max(play.played_at_ms for play in new)
            if after_ms is None or page.next is None or len(page.items) < limit:
                break
        plays = sorted(found.values(), key=lambda play: play.played_at_ms)
        return RecentPlays(plays=plays, cursor_ms=cursor)

    async def create_playlist(
        self, name: str, *, description: str = "", public: bool = False
    ) -> Playlist:
        data = await self._call(
            "POST",
            "/me/playlists",
            json={"name": name, "description": description, "public": public},
            needs=playlist_create_needs(public),
        )
        return _parse(Playlist, data)

    async def add_playlist_items(self, playlist_id: str, uris: Sequence[str]) -> str | None:
        """Append in order, 100 per request; returns the last snapshot id."""
        snapshot_id: str | None = None
        for chunk in _chunks(uris, PLAYLIST_ITEMS_CHUNK):
            data = await self._call(
                "POST",
                "/playlists/{id}/items",
                path_args={"id": playlist_id},
                json={"uris": list(chunk)},
            )
            if isinstance(data, dict) and isinstance(data.get("snapshot_id"), str):
                snapshot_id = data["snapshot_id"]
        return snapshot_id


class SpotifyAppApi:
    """The endpoints an app token may call (single catalog reads), under the same cooldown,
    retries and response hooks as the members' calls."""

    def __init__(
        self,
        client: SpotifyClient,
        tokens: TokenProvider,
        *,
        max_wait: float,
        interactive: bool = False,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._max_wait = max_wait
        self._interactive = interactive

    async def track(self, id: str) -> Track:
        """One track with its artists' and album's ids (there is no batch read for new apps)."""
        data = await self._client.request(
            self._tokens,
            "GET",
            "/tracks/{id}",
            max_wait=self._max_wait,
            path_args={"id": id},
            app=True,
            interactive=self._interactive,
        )
        return _parse(Track, data)


def _parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise SpotifyError(f"unexpected answer shape for {model.__name__}") from exc


def _check_time_range(time_range: str) -> None:
    try:
        TimeRange.from_name(time_range)
    except ValueError:
        names = ", ".join(r.api_name for r in TimeRange)
        raise ValueError(f"time_range must be one of {names}") from None
