"""The /import routes: the upload page, the upload itself, and the status the page polls.

The form is CSRF-protected by a double-submit token (a SameSite=Strict cookie and a hidden
field that must match) on top of the secret link, and a cross-site Origin is refused.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from aiohttp import web

from bot.domain import RecordingOff
from bot.services.import_jobs import ImportBusy, ImportJob, ImportJobs, JobState
from bot.services.import_links import IMPORT_PATH, ImportLinkError, ImportTicket
from bot.web import import_pages as pages
from bot.web.headers import SECURITY_HEADERS
from bot.web.import_upload import UploadProblem, UploadRefused, receive_upload

log = logging.getLogger(__name__)

CSRF_COOKIE = "encore_import_csrf"
MULTIPART_OVERHEAD = 64 * 1024
BUSY_RETRY_SECONDS = 60


def page_headers(nonce: str | None = None) -> dict[str, str]:
    """The callback pages' security headers; the import page may also post its form, run
    its one inline script and poll its status, all on this origin."""
    if nonce is None:
        return dict(SECURITY_HEADERS)
    csp = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return {**SECURITY_HEADERS, "Content-Security-Policy": csp}


def _html(text: str, status: int, nonce: str | None = None) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", headers=page_headers(nonce)
    )


def _problem(problem: pages.Problem) -> web.Response:
    response = _html(pages.problem_page(problem), problem.status)
    if problem.status == 503:
        response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


def add_import_routes(
    app: web.Application, imports: ImportJobs, *, max_bytes: int, public_origin: str
) -> None:
    """Serve the import pages; `public_origin` is where members reach the server (its
    scheme decides whether the CSRF cookie is Secure)."""
    public = urlsplit(public_origin)
    secure_cookie = public.scheme == "https"

    def paths(token: str) -> tuple[str, str]:
        page = f"{IMPORT_PATH}/{token}"
        return page, f"{page}/status"

    async def open_ticket(token: str) -> ImportTicket | web.Response:
        try:
            ticket = await imports.links.open(token)
            await imports.check_recording(ticket.discord_user_id)
        except ImportLinkError as exc:
            return _problem(pages.LINK_PROBLEMS[exc.problem])
        except RecordingOff:
            return _problem(pages.RECORDING_OFF)
        return ticket

    async def show(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        page, status_url = paths(token)
        nonce = secrets.token_urlsafe(16)
        job = imports.job_for(token)
        if job is not None and job.state in (JobState.REFUSED, JobState.FAILED):
            notice = _notice(job)
        elif job is not None:
            return _html(pages.job_page(job, status_url=status_url, nonce=nonce), 200, nonce)
        else:
            notice = None
        ticket = await open_ticket(token)
        if isinstance(ticket, web.Response):
            return ticket
        csrf = request.cookies.get(CSRF_COOKIE)
        if not csrf or len(csrf) > 64:
            csrf = secrets.token_urlsafe(24)
        response = _html(
            pages.upload_page(
                member_name=ticket.member_name,
                action=page,
                status_url=status_url,
                csrf=csrf,
                nonce=nonce,
                max_bytes=max_bytes,
                notice=notice,
            ),
            200,
            nonce,
        )
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            path=IMPORT_PATH,
            max_age=3600,
            httponly=True,
            samesite="Strict",
            secure=secure_cookie,
        )
        return response

    async def upload(request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        page, status_url = paths(token)
        if _cross_site(request, public.netloc):
            return _problem(pages.UPLOAD_PROBLEMS[UploadProblem.FORBIDDEN])
        ticket = await open_ticket(token)
        if isinstance(ticket, web.Response):
            return ticket
        length = request.content_length
        if length is not None and length > max_bytes + MULTIPART_OVERHEAD:
            return _problem(pages.too_large(max_bytes))
        try:
            job = imports.reserve(ticket)
        except ImportBusy as exc:
            return _problem(pages.BUSY[exc.reason])
        try:
            files = await receive_upload(
                request, job.folder, max_bytes=max_bytes, csrf=request.cookies.get(CSRF_COOKIE)
            )
        except UploadRefused as exc:
            imports.release(job)
            log.info("import upload refused: %s", exc.problem.value)
            if exc.problem is UploadProblem.TOO_LARGE:
                return _problem(pages.too_large(max_bytes))
            return _problem(pages.UPLOAD_PROBLEMS[exc.problem])
        except BaseException:
            imports.release(job)
            raise
        imports.start(job, files)
        await job.checked()
        if job.state is JobState.REFUSED and job.refusal is not None:
            return _problem(pages.refusal_problem(job.refusal.problem, job.refusal.reason))
        if job.state is JobState.FAILED:
            return _problem(pages.ERROR)
        if "application/json" in request.headers.get("Accept", ""):
            return web.json_response({"status": status_url}, status=202, headers=page_headers())
        raise web.HTTPSeeOther(page, headers=page_headers())

    async def status(request: web.Request) -> web.Response:
        job = imports.job_for(request.match_info["token"])
        if job is None:
            return web.json_response({"state": "none"}, status=404, headers=page_headers())
        return web.json_response(pages.job_status(job), headers=page_headers())

    app.router.add_get(IMPORT_PATH + "/{token}", show)
    app.router.add_post(IMPORT_PATH + "/{token}", upload)
    app.router.add_get(IMPORT_PATH + "/{token}/status", status)


def _notice(job: ImportJob) -> pages.Problem:
    """What the form says about the last upload through this link, which did not import."""
    if job.refusal is not None:
        return pages.refusal_problem(job.refusal.problem, job.refusal.reason)
    title, text = pages.FAILED_NOTICE
    return pages.Problem(500, title, text)


def _cross_site(request: web.Request, public_host: str) -> bool:
    """A form posted from another site (the browser says so in Origin / Sec-Fetch-Site)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":  # "null": a form navigation under no-referrer
        return False
    return urlsplit(origin).netloc not in (request.host, public_host)
