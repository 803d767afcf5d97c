"""Cover art over a real local HTTP server that sends its bodies in small, separate chunks."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.services import artwork
from bot.services.artwork import ArtworkFetcher

CHUNK = 16 * 1024
COVER = bytes(range(256)) * (481 * 1024 // 256)  # 481 KB, like the cover in the issue


class ImageServer:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.cut_short = True
        self.base = ""

    async def _send(
        self, request: web.Request, body: bytes, *, length: int | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        if length is not None:
            response.content_length = length
        await response.prepare(request)
        for start in range(0, len(body), CHUNK):
            await response.write(body[start : start + CHUNK])
            await asyncio.sleep(0.001)  # each chunk reaches the client on its own
        await response.write_eof()
        return response

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        return await self._send(request, COVER, length=None)

    async def sized(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        if not self.cut_short:
            return await self._send(request, COVER, length=len(COVER))
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.content_length = len(COVER)
        await response.prepare(request)
        await response.write(COVER[: len(COVER) // 2])
        assert request.transport is not None
        request.transport.close()
        return response

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/chunked.jpg", self.chunked)
        app.router.add_get("/sized.jpg", self.sized)
        return app


@pytest.fixture
async def images() -> AsyncIterator[ImageServer]:
    server = ImageServer()
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.base = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def fetcher() -> AsyncIterator[ArtworkFetcher]:
    async with aiohttp.ClientSession() as http:
        yield ArtworkFetcher(http)


async def test_a_cover_sent_in_small_chunks_arrives_whole_and_is_cached(
    images: ImageServer, fetcher: ArtworkFetcher
) -> None:
    url = f"{images.base}/chunked.jpg"
    assert await fetcher.fetch(url) == COVER
    assert await fetcher.fetch(url) == COVER
    assert images.hits["/chunked.jpg"] == 1


async def test_a_cover_over_the_limit_is_refused_and_not_cached(
    images: ImageServer, fetcher: ArtworkFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artwork, "MAX_IMAGE_BYTES", len(COVER) - 1)
    url = f"{images.base}/chunked.jpg"
    assert await fetcher.fetch(url) is None
    assert await fetcher.fetch(url) is None
    assert images.hits["/chunked.jpg"] == 2


async def test_an_announced_size_over_the_limit_is_refused(
    images: ImageServer, fetcher: ArtworkFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    images.cut_short = False
    monkeypatch.setattr(artwork, "MAX_IMAGE_BYTES", len(COVER) - 1)
    assert await fetcher.fetch(f"{images.base}/sized.jpg") is None


async def test_a_cover_cut_short_is_not_cached_and_the_next_fetch_gets_it_whole(
    images: ImageServer, fetcher: ArtworkFetcher
) -> None:
    url = f"{images.base}/sized.jpg"
    assert await fetcher.fetch(url) is None
    images.cut_short = False
    assert await fetcher.fetch(url) == COVER
    assert images.hits["/sized.jpg"] == 2
