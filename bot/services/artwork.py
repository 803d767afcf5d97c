"""Fetches cover art concurrently, with a timeout per image and a small in-memory cache."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence

import aiohttp

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 4 * 1024 * 1024
CACHE_ENTRIES = 300
FETCH_TIMEOUT = 5.0
PARALLEL_FETCHES = 8


async def _read_body(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole body, or None when it is bigger than `limit` or shorter than announced.

    `content.read(n)` returns what happens to be buffered, not n bytes: a cover sent in
    small chunks would come back cut short.
    """
    announced = response.content_length
    if announced is not None and announced > limit:
        log.info("cover art refused: %d bytes announced", announced)
        return None
    body = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            log.info("cover art refused: more than %d bytes", limit)
            return None
    if announced is not None and len(body) != announced:
        log.info("cover art cut short: %d of %d bytes", len(body), announced)
        return None
    return bytes(body)


class ArtworkFetcher:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        timeout: float = FETCH_TIMEOUT,
        cache_entries: int = CACHE_ENTRIES,
    ) -> None:
        self._http = http
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_entries = cache_entries
        self._limit = asyncio.Semaphore(PARALLEL_FETCHES)

    async def fetch_all(self, urls: Sequence[str | None]) -> list[bytes | None]:
        """The image bytes for each URL, None where there is no URL or the fetch failed."""
        return list(await asyncio.gather(*(self.fetch(url) for url in urls)))

    async def fetch(self, url: str | None) -> bytes | None:
        if not url:
            return None
        cached = self._cache.get(url)
        if cached is not None:
            self._cache.move_to_end(url)
            return cached
        try:
            async with self._limit, self._http.get(url, timeout=self._timeout) as response:
                if response.status != 200:
                    log.info("cover art answered %s", response.status)
                    return None
                data = await _read_body(response, MAX_IMAGE_BYTES)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("cover art could not be fetched: %s", type(exc).__name__)
            return None
        if data is None:
            return None
        self._cache[url] = data
        if len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)
        return data
