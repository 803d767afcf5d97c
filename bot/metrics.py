"""What the bot is doing, in Prometheus terms: commands, Spotify requests and cooldowns, and
facts about the links read from the database at scrape time.

Each bot holds its own `CollectorRegistry`, so several bots in one process (as in the tests)
never share a series. Labels are bounded: command names, endpoint templates (never paths with
ids in them), methods and status codes; never a member, a guild or a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from enum import StrEnum

import discord
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from bot.store.links import LinkFacts

COMMAND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SPOTIFY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
NO_STATUS = "none"
"""The status label of a Spotify request that got no answer (timeout, connection error)."""

_STARTED = "metrics_started"


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    """Ended with a message telling the member what to do: not linked, bad input, Spotify
    rate limits or outages."""
    ERROR = "error"
    """Failed unexpectedly (logged with its traceback; the member was told to try again)."""


class _LinkCollector(Collector):
    """Serves the facts read for the current scrape; nothing when they could not be read."""

    def __init__(self) -> None:
        self.facts: LinkFacts | None = None
        self.now = datetime.now(UTC)

    def collect(self) -> Iterator[Metric]:
        facts = self.facts
        if facts is None:
            return
        yield GaugeMetricFamily(
            "encore_linked_members", "Members with an ACTIVE Spotify link", value=facts.active
        )
        lag = 0.0
        if facts.oldest_sync is not None:
            lag = max(0.0, (self.now - facts.oldest_sync).total_seconds())
        yield GaugeMetricFamily(
            "encore_sync_lag_seconds",
            "Age of the stalest ACTIVE link: since its last sync, or since it was linked if "
            "never synced (0 without links)",
            value=lag,
        )


class Metrics:
    """One bot's series. The hooks (`spotify_response`, `spotify_cooldown`) never raise."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self._commands = Histogram(
            "encore_command_duration_seconds",
            "Slash commands (the _count is the number of commands), from the bot receiving the "
            "interaction until the command returned",
            ["command", "outcome"],
            buckets=COMMAND_BUCKETS,
            registry=self.registry,
        )
        self._spotify_requests = Counter(
            "encore_spotify_requests",
            "Spotify Web API requests by method, endpoint template and status",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self._spotify_seconds = Histogram(
            "encore_spotify_request_duration_seconds",
            "Time for one Spotify Web API request (one attempt)",
            ["method", "endpoint"],
            buckets=SPOTIFY_BUCKETS,
            registry=self.registry,
        )
        self._rate_limits = Counter(
            "encore_spotify_rate_limits", "Spotify answers 429", registry=self.registry
        )
        self._cooldown_seconds = Counter(
            "encore_spotify_cooldown_seconds",
            "Seconds every Spotify request was held back after 429s (overlaps counted once)",
            registry=self.registry,
        )
        self._links = _LinkCollector()
        self.registry.register(self._links)

    def command_started(self, interaction: discord.Interaction) -> None:
        if interaction.type is discord.InteractionType.application_command:
            interaction.extras[_STARTED] = self._clock()

    def command_finished(self, interaction: discord.Interaction, outcome: Outcome) -> None:
        """Count a command started with `command_started`, once."""
        started = interaction.extras.pop(_STARTED, None)
        if started is None or interaction.command is None:
            return
        self.observe_command(interaction.command.qualified_name, outcome, self._clock() - started)

    def observe_command(self, command: str, outcome: Outcome, seconds: float) -> None:
        self._commands.labels(command, outcome.value).observe(seconds)

    def spotify_response(
        self, method: str, endpoint: str, status: int | None, seconds: float
    ) -> None:
        """The `SpotifyClient.on_response` hook."""
        label = NO_STATUS if status is None else str(status)
        self._spotify_requests.labels(method, endpoint, label).inc()
        self._spotify_seconds.labels(method, endpoint).observe(seconds)
        if status == 429:
            self._rate_limits.inc()

    def spotify_cooldown(self, seconds: float) -> None:
        """The `SpotifyClient.on_cooldown` hook: the shared pause grew by `seconds`."""
        if seconds > 0:
            self._cooldown_seconds.inc(seconds)

    def render(self, facts: LinkFacts | None, now: datetime | None = None) -> bytes:
        """The text exposition, with `facts` (None: unknown, left out) as of `now`."""
        self._links.facts = facts
        self._links.now = now or datetime.now(UTC)
        return generate_latest(self.registry)
