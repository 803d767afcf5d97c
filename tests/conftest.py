"""Shared fixtures live in tests/fixtures/, one module per stand-in or resource."""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.spotify_sandbox",
    "tests.fixtures.discord_standin",
]
