"""Driving the /import page the way a browser without JavaScript does: the member's link from
the /import reply, the form (with its CSRF cookie and field), a multipart upload, the status."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from sandbox.discord_models import StandInMessage

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def import_link(reply: StandInMessage) -> str:
    """The URL of the one link button on an /import reply."""
    urls = [str(b["url"]) for b in reply.buttons() if b.get("url")]
    if len(urls) != 1:
        raise LookupError(f"expected one link button, found {len(urls)}")
    return urls[0]


@dataclass
class Page:
    status: int
    text: str
    headers: Any


class ImportBrowser:
    """One member's browser: keeps the page's cookie like a browser does."""

    def __init__(self) -> None:
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.http.close()

    async def __aenter__(self) -> ImportBrowser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get(self, url: str) -> Page:
        async with self.http.get(url) as response:
            return Page(response.status, await response.text(), response.headers)

    async def csrf(self, url: str) -> str:
        page = await self.get(url)
        assert page.status == 200, page.text
        found = _CSRF.search(page.text)
        assert found, "the form has no CSRF field"
        return found.group(1)

    async def upload(
        self,
        url: str,
        files: Sequence[Path | tuple[str, bytes]],
        *,
        csrf: str | None = None,
        accept_json: bool = False,
    ) -> Page:
        """Open the page for its form, then post the files as the form does."""
        token = csrf if csrf is not None else await self.csrf(url)
        form = aiohttp.FormData()
        form.add_field("csrf", token)
        for file in files:
            if isinstance(file, Path):
                form.add_field("files", file.read_bytes(), filename=file.name)
            else:
                form.add_field("files", file[1], filename=file[0])
        headers = {"Accept": "application/json"} if accept_json else {}
        async with self.http.post(url, data=form, headers=headers) as response:
            return Page(response.status, await response.text(), response.headers)

    async def status(self, url: str) -> dict[str, Any]:
        async with self.http.get(f"{url}/status") as response:
            body: dict[str, Any] = await response.json()
            return body

    async def wait_over(self, url: str, timeout: float = 20) -> dict[str, Any]:  # noqa: ASYNC109
        """Poll the status until the import ended."""
        async with asyncio.timeout(timeout):
            while True:
                status = await self.status(url)
                if status["state"] in ("done", "refused", "failed"):
                    return status
                await asyncio.sleep(0.05)
