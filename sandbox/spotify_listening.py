"""What sandbox users listen to: `GET /me/player/currently-playing` and
`GET /me/player/recently-played`, scripted by tests through `SpotifySandbox.play` and
`SpotifySandbox.set_currently_playing`.

Like Spotify, only the last 50 plays are kept. The `after`/`before` cursors are Unix
milliseconds of `played_at` and exclude the cursor itself; a page is always newest first. With
`after`, the page holds the plays closest after the cursor, so following `next` (or
`cursors.after`) walks forward without a gap; otherwise it holds the newest plays (before
`before`) and `next` walks back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

from aiohttp import web

from sandbox.spotify_faults import API_PREFIX
from sandbox.spotify_history import Listening, Play
from sandbox.spotify_http import ApiError, json_response
from sandbox.spotify_render import Json, Renderer
from sandbox.spotify_webapi import CALLER


def played_at_text(moment: datetime) -> str:
    """Spotify's `played_at`: UTC with milliseconds (`2026-05-01T20:15:30.250Z`)."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _context(api_url: str, uri: str | None) -> Json | None:
    if uri is None:
        return None
    _, kind, item_id = uri.split(":", 2)
    return {
        "type": kind,
        "href": f"{api_url}/{kind}s/{item_id}",
        "external_urls": {"spotify": f"https://open.spotify.com/{kind}/{item_id}"},
        "uri": uri,
    }


def _cursor_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if value < 0:
        raise ApiError(400, f"Invalid {name}")
    return value


class ListeningApi:
    def __init__(
        self,
        renderer: Renderer,
        listening_of: Callable[[str], Listening],
        now_ms: Callable[[], int],
    ) -> None:
        self.render = renderer
        self._listening_of = listening_of
        self._now_ms = now_ms

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(API_PREFIX + "/me/player/currently-playing", self.currently_playing)
        app.router.add_get(API_PREFIX + "/me/player/recently-played", self.recently_played)

    async def currently_playing(self, request: web.Request) -> web.StreamResponse:
        user = request[CALLER].require("user-read-currently-playing")
        now = self._listening_of(user.id).now
        if now is None:
            return web.Response(status=204)
        now_ms = self._now_ms()
        return json_response(
            {
                "timestamp": now_ms,
                "context": _context(self.render.api_url, now.context_uri),
                "progress_ms": now.progress_ms(now_ms),
                "item": self.render.track(now.track_id),
                "currently_playing_type": "track",
                "actions": {"disallows": {"resuming" if now.is_playing else "pausing": True}},
                "is_playing": now.is_playing,
            }
        )

    async def recently_played(self, request: web.Request) -> web.Response:
        user = request[CALLER].require("user-read-recently-played")
        limit_text = request.query.get("limit", "20")
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 50:
            raise ApiError(400, "Invalid limit")
        limit = int(limit_text)
        after, before = _cursor_param(request, "after"), _cursor_param(request, "before")
        if after is not None and before is not None:
            raise ApiError(400, "Only one of after and before may be given")
        plays = self._listening_of(user.id).plays
        if after is not None:
            later = [play for play in plays if play.cursor > after]
            window, more = later[:limit], len(later) > limit
        else:
            earlier = [play for play in plays if before is None or play.cursor < before]
            window, more = earlier[-limit:], len(earlier) > limit
        window.reverse()
        base = f"{self.render.base_url}{request.path}"
        page: Json = {
            "href": f"{base}?{urlencode(request.query)}" if request.query else base,
            "limit": limit,
            "items": [self._play(play) for play in window],
        }
        if window:
            page["cursors"] = {"after": str(window[0].cursor), "before": str(window[-1].cursor)}
        if window and more:
            # `next` and the cursors are typed as non-null strings: left out rather than null.
            direction = "after" if after is not None else "before"
            page["next"] = (
                f"{base}?{urlencode({direction: page['cursors'][direction], 'limit': limit})}"
            )
        return json_response(page)

    def _play(self, play: Play) -> Json:
        return {
            "track": self.render.track(play.track_id),
            "played_at": played_at_text(play.played_at),
            "context": _context(self.render.api_url, play.context_uri),
        }
