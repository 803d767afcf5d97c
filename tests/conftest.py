"""Shared fixtures and helpers live in tests/helpers/, one module per stand-in or resource."""

pytest_plugins = [
    "tests.helpers.db",
    "tests.helpers.spotify_sandbox",
    "tests.helpers.discord_standin",
    "tests.helpers.world",
    "tests.helpers.accounts",
    "tests.helpers.plays",
]
