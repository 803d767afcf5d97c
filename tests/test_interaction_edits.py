"""Editing an interaction reply over REST, against a local server playing Discord."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from aiohttp import web

from bot.interaction_edits import InteractionEditor
from bot.process.logs import ContextFilter, ScrubbingFormatter

TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDpzZWNyZXRzZWNyZXRzZWNyZXQ"


@pytest.fixture
async def discord_answering() -> AsyncIterator[dict[str, int]]:
    answer = {"status": 503}

    async def edit(request: web.Request) -> web.Response:
        return web.json_response({"message": "upstream trouble"}, status=answer["status"])

    app = web.Application()
    app.router.add_patch("/api/v10/webhooks/{app}/{token}/messages/@original", edit)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    original = discord.http.Route.BASE
    discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
    try:
        yield answer
    finally:
        discord.http.Route.BASE = original
        await runner.cleanup()


def formatted(record_logger: logging.Logger, stream: io.StringIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter("%(levelname)s %(message)s%(ctx)s"))
    handler.addFilter(ContextFilter())
    record_logger.addHandler(handler)
    return handler


async def test_a_5xx_answer_to_an_edit_never_puts_the_interaction_token_in_the_log(
    discord_answering: dict[str, int],
) -> None:
    logger = logging.getLogger("tests.interaction_edits")
    stream = io.StringIO()
    handler = formatted(logger, stream)
    try:
        async with aiohttp.ClientSession() as http:
            editor = InteractionEditor(http)
            try:
                await editor.edit_original(1234567890, TOKEN, {"content": "hi"})
            except Exception:  # what the runtime does with it: log it
                logger.exception("link confirmation could not be sent")
            else:
                pytest.fail("a 503 should raise")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "503" in text and "Traceback" in text
    assert TOKEN not in text


async def test_an_expired_interaction_is_reported_not_raised(
    discord_answering: dict[str, int],
) -> None:
    discord_answering["status"] = 404
    async with aiohttp.ClientSession() as http:
        assert await InteractionEditor(http).edit_original(1, TOKEN, {"content": "x"}) is False


@pytest.mark.parametrize(
    "text",
    [
        f"PATCH https://discord.com/api/v10/webhooks/1234567890/{TOKEN}/messages/@original",
        f"POST /api/v10/interactions/99887766/{TOKEN}/callback",
        f"url='https://discord.com/api/v10/webhooks/1/{TOKEN}?wait=true'",
    ],
)
def test_webhook_and_interaction_tokens_are_scrubbed_by_the_formatter(text: str) -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", (text,), None)
    ContextFilter().filter(record)
    out = ScrubbingFormatter("%(message)s").format(record)
    assert TOKEN not in out
    assert "[redacted]" in out


async def test_the_edit_error_names_the_status_but_not_the_url(
    discord_answering: dict[str, int],
) -> None:
    from bot.interaction_edits import InteractionEditFailed

    async with aiohttp.ClientSession() as http:
        with pytest.raises(InteractionEditFailed, match="503") as raised:
            await InteractionEditor(http).edit_original(1, TOKEN, {"content": "x"})
    assert TOKEN not in repr(raised.value) and "webhooks" not in str(raised.value)
