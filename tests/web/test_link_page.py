"""The /link page's cookie and headers as the web server sets them, over a stand-in for the
linking service (the flow itself is tested end to end in tests/cogs/test_account.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import aiohttp
import pytest

from bot.services.linking import LinkingService, LinkPage
from bot.web.server import WebServer, build_app
from sandbox.browser import new_browser

SECRET = "b" * 43


class OnePage:
    """Answers every /link page with the same member and secret."""

    def __init__(self) -> None:
        self.secrets_seen: list[str | None] = []

    async def open_page(self, state: str | None, browser_secret: str | None) -> LinkPage:
        self.secrets_seen.append(browser_secret)
        return LinkPage("<alice>", "Guild & Co", SECRET, "form-token")


async def unused(*_: object) -> None:
    raise AssertionError("no link is completed here")


@asynccontextmanager
async def serving(secure: bool) -> AsyncIterator[tuple[str, OnePage]]:
    linking = OnePage()
    app = build_app(
        callback_path="/callback",
        linking=cast(LinkingService, linking),
        on_linked=unused,
        on_failed=unused,
        health=unused,  # type: ignore[arg-type]
        spotify_accounts_url="https://accounts.example/",
        secure_cookies=secure,
    )
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", linking
    finally:
        await server.close()


@pytest.fixture(params=[False, True], ids=["http", "https"])
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, bool, OnePage]]:
    async with serving(request.param) as (base, linking):
        yield base, request.param, linking


async def test_the_cookie_is_http_only_lax_and_secure_behind_https(
    served: tuple[str, bool, OnePage],
) -> None:
    base, secure, _ = served
    async with aiohttp.ClientSession() as http, http.get(f"{base}/link?state=s") as response:
        assert response.status == 200
        [header] = response.headers.getall("Set-Cookie")
    attributes = [part.strip() for part in header.split(";")]
    name = "__Host-encore_link" if secure else "encore_link"
    assert attributes[0] == f"{name}={SECRET}"
    assert {"HttpOnly", "Path=/", "SameSite=Lax"} <= set(attributes)
    assert ("Secure" in attributes) is secure
    assert "Max-Age=600" in attributes
    assert not any(part.lower().startswith("domain") for part in attributes)


async def test_the_page_escapes_names_and_limits_its_form_to_here_and_spotify(
    served: tuple[str, bool, OnePage],
) -> None:
    base, _, _ = served
    async with aiohttp.ClientSession() as http, http.get(f"{base}/link?state=s") as response:
        page = await response.text()
        csp = response.headers["Content-Security-Policy"]
    assert "@&lt;alice&gt;" in page and "Guild &amp; Co" in page
    assert "form-action 'self' https://accounts.example;" in csp + ";"


async def test_the_browser_sends_its_cookie_back() -> None:
    async with serving(secure=False) as (base, linking), new_browser() as browser:
        for _ in range(2):
            async with browser.get(f"{base}/link?state=s") as response:
                assert response.status == 200
    assert linking.secrets_seen == [None, SECRET]
