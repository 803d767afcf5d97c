"""Observability end to end: what /metrics shows after real commands and Spotify calls, that
it holds no secret, and that log lines written while serving a member say whose request it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.db.vault import load_or_create_keys
from bot.process.logs import ContextFilter
from sandbox.discord import StandInUser
from tests.helpers.world import World, button_id

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
NEXT = "▶️"


async def scrape_text(world: World) -> str:
    async with aiohttp.ClientSession() as http, http.get(world.web_url + "/metrics") as response:
        assert response.status == 200
        return await response.text()


async def scrape(world: World) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(await scrape_text(world))
        for sample in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


def commands(command: str, outcome: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return key("encore_command_duration_seconds_count", command=command, outcome=outcome)


async def scrape_until(world: World, ready: Callable[[Samples], bool]) -> Samples:
    """Commands are counted just after they answered: scrape until `ready` holds."""
    for _ in range(100):
        samples = await scrape(world)
        if ready(samples):
            return samples
        await asyncio.sleep(0.05)
    raise AssertionError(f"the metrics never got there: {samples}")


async def test_commands_and_spotify_requests_are_counted(world: World) -> None:
    alice, bob = world.members[:2]
    await world.link(alice, "user0")
    await world.answer("top artists", alice)
    await world.answer("profile", alice)
    await world.answer("top artists", bob)

    samples = await scrape_until(world, lambda s: s.get(commands("top artists", "refused")) == 1)

    assert samples[commands("link", "ok")] == 1
    assert samples[commands("top artists", "ok")] == 1
    assert samples[commands("profile", "ok")] == 1
    for path, endpoint in (("/v1/me/top/artists", "/me/top/artists"), ("/v1/me", "/me")):
        sent = [r for r in world.spotify.requests if r.path == path]
        assert sent and all(r.status == 200 for r in sent)
        requests = key(
            "encore_spotify_requests_total", method="GET", endpoint=endpoint, status="200"
        )
        assert samples[requests] == len(sent)
    assert samples[key("encore_linked_members")] == 1
    assert 0 <= samples[key("encore_sync_lag_seconds")] < 60


async def test_rate_limits_and_the_cooldown_they_caused_are_counted(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    world.spotify.faults.rate_limit(1, path="/me/tracks")

    reply = await world.answer("saved tracks", alice)

    assert reply.embeds
    samples = await scrape_until(world, lambda s: s.get(commands("saved tracks", "ok")) == 1)
    assert samples[key("encore_spotify_rate_limits_total")] == 1
    assert 0.9 <= samples[key("encore_spotify_cooldown_seconds_total")] <= 1.1
    limited = key(
        "encore_spotify_requests_total", method="GET", endpoint="/me/tracks", status="429"
    )
    assert samples[limited] == 1


async def test_metrics_hold_no_secret_and_no_member(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    await world.answer("top artists", alice)
    link = world.discord.interactions[0]

    text = await scrape_text(world)

    settings = world.settings
    assert settings.DISCORD_TOKEN is not None and settings.SPOTIFY_CLIENT_SECRET is not None
    secrets = [
        settings.DISCORD_TOKEN.get_secret_value(),
        settings.SPOTIFY_CLIENT_SECRET.get_secret_value(),
        *load_or_create_keys(settings.encryption_keys, settings.DATA_DIR),
        *world.spotify.accounts.issued,
        link.token,
    ]
    assert len(secrets) > 5
    for secret in secrets:
        assert secret not in text
    for identifier in (alice.id, world.guild.id, "user0", world.spotify.users["user0"].account_id):
        assert str(identifier) not in text


class ContextLines(logging.Handler):
    """Log lines formatted as the bot writes them, context included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.addFilter(ContextFilter())
        self.setFormatter(logging.Formatter("%(name)s: %(message)s%(ctx)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    handler = ContextLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


def context(world: World, member: StandInUser, command: str) -> str:
    return f"[guild={world.guild.id} member={member.id} cmd={command}]"


def lines_with(lines: list[str], fragment: str) -> list[str]:
    return [line for line in lines if fragment in line]


async def test_service_log_lines_during_a_command_carry_its_context(
    world: World, log_lines: list[str]
) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    world.spotify.faults.server_error(path="/me/albums")

    await world.answer("saved albums", alice)

    retried = lines_with(log_lines, "/me/albums answered 503")
    assert retried
    assert all(context(world, alice, "saved albums") in line for line in retried)


async def test_log_lines_of_failed_commands_carry_their_context(
    world: World, log_lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = world.members[0]

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(world.bot.services.accounts, "unlink", broken)
    await world.answer("unlink", alice)

    failed = lines_with(log_lines, "command unlink failed")
    assert len(failed) == 1
    assert context(world, alice, "unlink") in failed[0]


async def test_log_lines_during_a_page_turn_carry_its_context(
    world: World, log_lines: list[str]
) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    reply = await world.answer("saved tracks", alice)
    world.spotify.faults.server_error(path="/me/tracks")

    click = await world.discord.click(reply, button_id(reply, NEXT), user=alice)
    await click.wait_message(lambda m: "2/" in str(m.buttons()))

    retried = lines_with(log_lines, "/me/tracks answered 503")
    assert retried
    assert all(context(world, alice, "page turn") in line for line in retried)


async def test_a_refusal_and_an_unexpected_failure_are_counted_apart(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = world.members[0]
    await world.answer("profile", alice)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(world.bot.services.accounts, "unlink", broken)
    await world.answer("unlink", alice)

    samples = await scrape_until(world, lambda s: s.get(commands("unlink", "error")) == 1)
    assert samples[commands("profile", "refused")] == 1
    assert commands("profile", "error") not in samples
    assert commands("unlink", "refused") not in samples
