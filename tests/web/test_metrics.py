"""GET /metrics: the exposition format, and a scrape that survives an unreadable database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.metrics import Metrics
from bot.store.links import LinkFacts
from bot.web.metrics import metrics_handler

Serve = Callable[
    [Callable[[], Awaitable[LinkFacts]]], Awaitable[TestClient[web.Request, web.Application]]
]


@pytest.fixture
async def serve(metrics: Metrics) -> AsyncIterator[Serve]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(
        link_facts: Callable[[], Awaitable[LinkFacts]],
    ) -> TestClient[web.Request, web.Application]:
        app = web.Application()
        app.router.add_get("/metrics", metrics_handler(metrics, link_facts))
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


async def test_serves_every_series_in_the_text_format(serve: Serve, metrics: Metrics) -> None:
    metrics.spotify_response("GET", "/me", 200, 0.1)

    async def facts() -> LinkFacts:
        return LinkFacts(active=7, oldest_sync=datetime.now(UTC))

    client = await serve(facts)
    response = await client.get("/metrics")
    text = await response.text()

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response.headers["Cache-Control"] == "no-store"
    assert "# TYPE encore_linked_members gauge" in text
    assert "encore_linked_members 7.0" in text
    assert 'encore_spotify_requests_total{endpoint="/me",method="GET",status="200"} 1.0' in text


async def test_reads_the_links_at_every_scrape(serve: Serve) -> None:
    counts = iter([1, 2])

    async def facts() -> LinkFacts:
        return LinkFacts(active=next(counts), oldest_sync=None)

    client = await serve(facts)
    first = await (await client.get("/metrics")).text()
    second = await (await client.get("/metrics")).text()

    assert "encore_linked_members 1.0" in first
    assert "encore_linked_members 2.0" in second


async def test_an_unreadable_database_leaves_only_the_link_series_out(
    serve: Serve, metrics: Metrics, caplog: pytest.LogCaptureFixture
) -> None:
    metrics.spotify_cooldown(3)

    async def facts() -> LinkFacts:
        raise OSError("database is locked")

    client = await serve(facts)
    response = await client.get("/metrics")
    text = await response.text()

    assert response.status == 200
    assert "encore_spotify_cooldown_seconds_total 3.0" in text
    assert "encore_linked_members" not in text
    assert "encore_sync_lag_seconds" not in text
    assert "could not read the links" in caplog.text
