"""The aiohttp web server: the /link page, the OAuth callback, the /import pages, /healthz and
/metrics."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler as RequestHandler

from bot.services.container import START_PATH
from bot.services.import_jobs import ImportJobs
from bot.services.import_links import IMPORT_PATH
from bot.services.linking import (
    STATE_LIFETIME,
    LinkError,
    LinkingService,
    LinkResult,
    PendingLink,
)
from bot.web.headers import CSP, SECURITY_HEADERS
from bot.web.imports import add_import_routes
from bot.web.metrics import Handler
from bot.web.pages import error_page, failure_page, start_page, success_page

log = logging.getLogger(__name__)


BROWSER_COOKIE = "encore_link"
SECURE_BROWSER_COOKIE = "__Host-encore_link"
"""With HTTPS the `__Host-` prefix: the browser then takes the cookie only from this exact
origin over HTTPS, so a sibling subdomain cannot plant one."""


def form_headers(spotify_origin: str) -> dict[str, str]:
    """The /link page's headers: those of every page, but its form may be sent here and
    redirected on to Spotify (browsers check `form-action` on the redirect too)."""
    csp = CSP.format(form_action=f"'self' {spotify_origin}")
    return {**SECURITY_HEADERS, "Content-Security-Policy": csp}


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


PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def _is_direct_loopback(request: web.BaseRequest) -> bool:
    """A client on this machine talking to us directly: a reverse proxy on the same host
    connects from loopback too, but adds a forwarding header."""
    try:
        loopback = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False
    return loopback and not any(name in request.headers for name in PROXY_HEADERS)


def operator_access(token: str | None) -> Callable[[web.BaseRequest], bool]:
    """Who may read /metrics and the detailed /healthz: with `token` (METRICS_TOKEN), whoever
    sends `Authorization: Bearer <token>`; without one, direct clients on this machine only."""
    if token is None:
        return _is_direct_loopback
    expected = f"Bearer {token}".encode()

    def allowed(request: web.BaseRequest) -> bool:
        sent = request.headers.get(hdrs.AUTHORIZATION, "").encode()
        return hmac.compare_digest(sent, expected)

    return allowed


def _html(text: str, status: int, headers: Mapping[str, str] = SECURITY_HEADERS) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", headers=headers)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def build_app(
    *,
    callback_path: str,
    linking: LinkingService,
    on_linked: LinkedHook,
    on_failed: FailedHook,
    health: HealthCheck,
    metrics: Handler | None = None,
    metrics_token: str | None = None,
    imports: ImportJobs | None = None,
    import_max_bytes: int = 0,
    public_origin: str = "",
    spotify_accounts_url: str = "https://accounts.spotify.com",
    secure_cookies: bool = False,
) -> web.Application:
    """The routes. /metrics and the details of /healthz are for the operator (see
    `operator_access`); anyone else gets 403 from /metrics and only `{"ok": ...}` from
    /healthz, enough for a load balancer's check.

    GET /link shows whom a /link links and binds it to the browser (a cookie, `Secure` with
    `secure_cookies`, which the public origin being HTTPS calls for); its form POSTs back and
    is redirected to Spotify; the callback needs the same cookie."""
    may_inspect = operator_access(metrics_token)
    cookie_name = SECURE_BROWSER_COOKIE if secure_cookies else BROWSER_COOKIE
    page_headers = form_headers(_origin(spotify_accounts_url))

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        try:
            result = await linking.complete(
                state=query.get("state"),
                code=query.get("code"),
                error=query.get("error"),
                browser_secret=request.cookies.get(cookie_name),
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
        return _html(success_page(result.display_name), 200)

    async def link_page(request: web.Request) -> web.Response:
        state = request.query.get("state")
        try:
            page = await linking.open_page(state, request.cookies.get(cookie_name))
        except LinkError as exc:
            log.info("link page refused: %s", exc.failure.value)
            return _html(failure_page(exc.failure), 400)
        assert state is not None
        response = _html(start_page(page, state, START_PATH), 200, page_headers)
        response.set_cookie(
            cookie_name,
            page.browser_secret,
            path="/",
            max_age=int(STATE_LIFETIME.total_seconds()),
            secure=secure_cookies,
            httponly=True,
            samesite="Lax",
        )
        return response

    async def continue_link(request: web.Request) -> web.Response:
        form = await request.post()
        state, token = form.get("state"), form.get("token")
        try:
            target = await linking.authorize_url(
                state if isinstance(state, str) else None,
                request.cookies.get(cookie_name),
                token if isinstance(token, str) else None,
            )
        except LinkError as exc:
            log.info("link form refused: %s", exc.failure.value)
            return _html(failure_page(exc.failure), 400)
        raise web.HTTPSeeOther(target, headers=page_headers)

    async def healthz(request: web.Request) -> web.Response:
        report = dict(await health())
        ok = all(value is True for key, value in report.items() if key.endswith("_ok"))
        shown = report if may_inspect(request) else {"ok": ok}
        return web.json_response(shown, status=200 if ok else 503)

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_get(callback_path, callback)
    app.router.add_get(START_PATH, link_page)
    app.router.add_post(START_PATH, continue_link)
    app.router.add_get("/healthz", healthz)
    if metrics is not None:
        scrape = metrics

        async def guarded_metrics(request: web.Request) -> web.StreamResponse:
            if not may_inspect(request):
                raise web.HTTPForbidden(
                    text="/metrics needs METRICS_TOKEN as a bearer token\n",
                    headers={"Cache-Control": "no-store"},
                )
            return await scrape(request)

        app.router.add_get("/metrics", guarded_metrics)
    if imports is not None:
        add_import_routes(app, imports, max_bytes=import_max_bytes, public_origin=public_origin)
    return app


async def _quietly(awaitable: Awaitable[None], what: str) -> None:
    """The page must render even when Discord cannot be told; log and go on."""
    try:
        await awaitable
    except Exception:
        log.exception("%s could not be sent", what)


def request_deadline(seconds: float) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware that ends any request still unfinished after `seconds` (a body sent
    slowly or only in part included): 408 while its body is still arriving, else 503."""

    @web.middleware
    async def deadline(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
        try:
            async with asyncio.timeout(seconds):
                return await handler(request)
        except TimeoutError:
            waiting_for_body = request.body_exists and not request.content.at_eof()
            log.info("%s %s took over %s s; closed", request.method, request.path, seconds)
            response = web.Response(
                status=408 if waiting_for_body else 503, text="Request took too long\n"
            )
            response.force_close()
            return response

    return deadline


LINGERING_SECONDS = 1.0
"""After answering a request whose body is unread, how long the rest of it is read and
dropped before closing (so the client sees the answer); aiohttp's default is 10 s."""


class WebServer:
    """The app served on `host:port`. An idle keep-alive connection, or one still sending its
    request headers, is closed after `keepalive_timeout` seconds (aiohttp's default is an
    hour); a request unfinished after `request_timeout` seconds is answered and closed."""

    def __init__(
        self,
        app: web.Application,
        host: str,
        port: int,
        *,
        keepalive_timeout: float = 75,
        request_timeout: float = 60,
    ) -> None:
        app.middlewares.append(request_deadline(request_timeout))
        self._runner = web.AppRunner(
            app,
            access_log_class=PathOnlyAccessLogger,
            keepalive_timeout=keepalive_timeout,
            lingering_time=LINGERING_SECONDS,
        )
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
