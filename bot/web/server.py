"""The aiohttp web server: the OAuth callback, the /import pages, /healthz and /metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.services.container import START_PATH
from bot.services.import_jobs import ImportJobs
from bot.services.import_links import IMPORT_PATH
from bot.services.linking import LinkError, LinkingService, LinkResult, PendingLink
from bot.web.headers import SECURITY_HEADERS
from bot.web.imports import add_import_routes
from bot.web.metrics import Handler
from bot.web.pages import error_page, failure_page, success_page

log = logging.getLogger(__name__)


LinkedHook = Callable[[LinkResult], Awaitable[None]]
FailedHook = Callable[[PendingLink, LinkError], Awaitable[None]]
HealthCheck = Callable[[], Awaitable[Mapping[str, Any]]]


def logged_path(path: str) -> str:
    """The path as logged: an /import link's token is a secret and is left out."""
    if path.startswith(IMPORT_PATH + "/"):
        rest = path[len(IMPORT_PATH) + 1 :]
        tail = rest.partition("/")[2]
        return f"{IMPORT_PATH}/…" + (f"/{tail}" if tail else "")
    return path


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Logs method, path and status but never the query string (it carries code and state)
    nor an import token."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s -> %s (%.0f ms)",
            request.method,
            logged_path(request.path),
            response.status,
            time * 1000,
        )


def _html(text: str, status: int) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", headers=SECURITY_HEADERS
    )


def build_app(
    *,
    callback_path: str,
    linking: LinkingService,
    on_linked: LinkedHook,
    on_failed: FailedHook,
    health: HealthCheck,
    metrics: Handler | None = None,
    imports: ImportJobs | None = None,
    import_max_bytes: int = 0,
    public_origin: str = "",
) -> web.Application:
    async def callback(request: web.Request) -> web.Response:
        query = request.query
        try:
            result = await linking.complete(
                state=query.get("state"), code=query.get("code"), error=query.get("error")
            )
        except LinkError as exc:
            log.info("link callback refused: %s", exc.failure.value)
            if exc.pending is not None:
                await _quietly(on_failed(exc.pending, exc), "link failure notice")
            return _html(failure_page(exc.failure), 400)
        except Exception:
            log.exception("link callback failed")
            return _html(error_page(), 500)
        log.info("member %s linked a Spotify account", result.pending.discord_user_id)
        await _quietly(on_linked(result), "link confirmation")
        return _html(success_page(result.display_name, result.moved_from is not None), 200)

    async def start_link(request: web.Request) -> web.Response:
        try:
            target = await linking.authorize_url(request.query.get("state"))
        except LinkError as exc:
            return _html(failure_page(exc.failure), 400)
        raise web.HTTPFound(target, headers=SECURITY_HEADERS)

    async def healthz(request: web.Request) -> web.Response:
        report = dict(await health())
        ok = all(value is True for key, value in report.items() if key.endswith("_ok"))
        return web.json_response(report, status=200 if ok else 503)

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get(callback_path, callback)
    app.router.add_get(START_PATH, start_link)
    app.router.add_get("/healthz", healthz)
    if metrics is not None:
        app.router.add_get("/metrics", metrics)
    if imports is not None:
        add_import_routes(app, imports, max_bytes=import_max_bytes, public_origin=public_origin)
    return app


async def _quietly(awaitable: Awaitable[None], what: str) -> None:
    """The page must render even when Discord cannot be told; log and go on."""
    try:
        await awaitable
    except Exception:
        log.exception("%s could not be sent", what)


class WebServer:
    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger)
        self._host, self._port = host, port
        self.port: int | None = None

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("web server listening on %s:%s", self._host, self.port)

    async def close(self) -> None:
        await self._runner.cleanup()
