"""The metrics of one bot: series, labels, link facts as rendered, and registry isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import Mock

import discord
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import NO_STATUS, Metrics, Outcome
from bot.store.links import LinkFacts

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def samples(metrics: Metrics, facts: LinkFacts | None = None) -> dict[tuple[str, Any], float]:
    """Every sample of a scrape, keyed by name and sorted label pairs."""
    text = metrics.render(facts, now=NOW).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: Metrics, name: str, facts: LinkFacts | None = None, **labels: str) -> float:
    return samples(metrics, facts)[(name, tuple(sorted(labels.items())))]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def interaction(kind: discord.InteractionType, command: str | None = "top artists") -> Mock:
    fake = Mock(spec=discord.Interaction)
    fake.type = kind
    fake.extras = {}
    if command is None:
        fake.command = None
    else:
        fake.command = Mock(spec=discord.app_commands.Command)
        fake.command.qualified_name = command
    return fake


def test_spotify_responses_are_counted_by_method_endpoint_and_status() -> None:
    metrics = Metrics()
    metrics.spotify_response("GET", "/me/top/{kind}", 200, 0.2)
    metrics.spotify_response("GET", "/me/top/{kind}", 200, 0.3)
    metrics.spotify_response("PUT", "/me/library", 429, 0.01)
    metrics.spotify_response("GET", "/me", None, 10.0)

    assert (
        value(
            metrics,
            "encore_spotify_requests_total",
            method="GET",
            endpoint="/me/top/{kind}",
            status="200",
        )
        == 2
    )
    assert (
        value(
            metrics,
            "encore_spotify_requests_total",
            method="PUT",
            endpoint="/me/library",
            status="429",
        )
        == 1
    )
    assert (
        value(
            metrics, "encore_spotify_requests_total", method="GET", endpoint="/me", status=NO_STATUS
        )
        == 1
    )
    duration = "encore_spotify_request_duration_seconds_sum"
    assert value(metrics, duration, method="GET", endpoint="/me/top/{kind}") == 0.5
    assert value(metrics, "encore_spotify_rate_limits_total") == 1


def test_cooldown_seconds_add_up_and_ignore_holds_that_did_not_extend_the_pause() -> None:
    metrics = Metrics()
    metrics.spotify_cooldown(2.5)
    metrics.spotify_cooldown(0.0)
    metrics.spotify_cooldown(1.5)

    assert value(metrics, "encore_spotify_cooldown_seconds_total") == 4.0


def test_a_command_is_timed_from_start_to_finish_and_counted_once() -> None:
    clock = FakeClock()
    metrics = Metrics(clock=clock)
    command = interaction(discord.InteractionType.application_command)

    metrics.command_started(command)
    clock.now += 0.04
    metrics.command_finished(command, Outcome.OK)
    metrics.command_finished(command, Outcome.ERROR)

    labels = {"command": "top artists", "outcome": "ok"}
    assert value(metrics, "encore_command_duration_seconds_count", **labels) == 1
    assert abs(value(metrics, "encore_command_duration_seconds_sum", **labels) - 0.04) < 1e-9
    assert value(metrics, "encore_command_duration_seconds_bucket", le="0.05", **labels) == 1
    assert value(metrics, "encore_command_duration_seconds_bucket", le="0.025", **labels) == 0
    assert not [key for key in samples(metrics) if ("outcome", "error") in key[1]]


def test_failed_commands_are_labelled_error() -> None:
    metrics = Metrics()
    command = interaction(discord.InteractionType.application_command, "profile")

    metrics.command_started(command)
    metrics.command_finished(command, Outcome.ERROR)

    assert (
        value(metrics, "encore_command_duration_seconds_count", command="profile", outcome="error")
        == 1
    )


def test_autocomplete_and_unknown_commands_are_not_counted() -> None:
    metrics = Metrics()
    typing = interaction(discord.InteractionType.autocomplete)
    unknown = interaction(discord.InteractionType.application_command, command=None)
    for each in (typing, unknown):
        metrics.command_started(each)
        metrics.command_finished(each, Outcome.OK)

    assert not [key for key in samples(metrics) if key[0].startswith("encore_command_")]


def test_link_facts_give_the_member_count_and_the_lag_of_the_stalest_link() -> None:
    metrics = Metrics()
    facts = LinkFacts(active=3, oldest_sync=NOW - timedelta(hours=2))

    assert value(metrics, "encore_linked_members", facts) == 3
    assert value(metrics, "encore_sync_lag_seconds", facts) == 7200


def test_without_links_the_lag_is_zero() -> None:
    metrics = Metrics()
    facts = LinkFacts(active=0, oldest_sync=None)

    assert value(metrics, "encore_linked_members", facts) == 0
    assert value(metrics, "encore_sync_lag_seconds", facts) == 0


def test_unknown_link_facts_leave_their_series_out() -> None:
    metrics = Metrics()
    metrics.render(LinkFacts(active=5, oldest_sync=NOW), now=NOW)

    names = {name for name, _ in samples(metrics, None)}

    assert "encore_linked_members" not in names
    assert "encore_sync_lag_seconds" not in names


def test_each_bot_has_its_own_series() -> None:
    first, second = Metrics(), Metrics()
    first.spotify_response("GET", "/me", 200, 0.1)

    assert value(first, "encore_spotify_requests_total", method="GET", endpoint="/me", status="200")
    assert not [key for key in samples(second) if key[0] == "encore_spotify_requests_total"]


def test_process_memory_is_exposed() -> None:
    assert value(Metrics(), "process_resident_memory_bytes") > 0
