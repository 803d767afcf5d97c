"""GET /metrics: the bot's Prometheus series, with link facts read from the database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.metrics import Metrics
from bot.store.links import LinkFacts

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Every Prometheus reads this version, and the series' names need nothing newer."""


def metrics_handler(metrics: Metrics, link_facts: Callable[[], Awaitable[LinkFacts]]) -> Handler:
    """A handler that reads the link facts and renders every series.

    When the database cannot be read, the link series are left out rather than failing the
    scrape: the other series still tell what the bot is doing.
    """

    async def handle(request: web.Request) -> web.Response:
        facts: LinkFacts | None
        try:
            facts = await link_facts()
        except Exception:
            log.exception("metrics: could not read the links")
            facts = None
        return web.Response(
            body=metrics.render(facts),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    return handle
