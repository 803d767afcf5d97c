"""Library reads through their per-list strategy, against the Spotify sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.services.library import SAVED_LISTS
from bot.spotify.client import SpotifyClient, SpotifyUserApi
from bot.spotify.oauth import SCOPES
from sandbox.spotify import SpotifySandbox

DATED = {
    "tracks": "track",
    "albums": "album",
    "shows": "show",
    "episodes": "episode",
    "audiobooks": "audiobook",
}


class IssuedToken:
    """A sandbox access token that stays valid for the test."""

    key = "user1"
    scopes = frozenset(SCOPES)

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    async def current_token(self) -> tuple[str, datetime]:
        return self._token, datetime.now(UTC) + timedelta(hours=1)

    async def refresh(self) -> str:
        raise AssertionError("no refresh expected")


@pytest.fixture
async def api(spotify_sandbox: SpotifySandbox) -> AsyncIterator[SpotifyUserApi]:
    issued = spotify_sandbox.issue_tokens("user1", scopes=SCOPES)
    async with aiohttp.ClientSession() as http:
        client = SpotifyClient(http, api_url=spotify_sandbox.api_url, backoff_base=0.01)
        yield client.user(IssuedToken(issued["access_token"]))


def test_every_list_has_a_read() -> None:
    assert set(SAVED_LISTS) == {*DATED, "playlists"}


@pytest.mark.parametrize("what", sorted(DATED))
async def test_saved_entries_are_read_with_their_date_added(
    spotify_sandbox: SpotifySandbox, api: SpotifyUserApi, what: str
) -> None:
    library = spotify_sandbox.users["user1"].library
    page = await SAVED_LISTS[what].page(api, 1, 5)
    saved = [uri for uri in library if uri.startswith(f"spotify:{DATED[what]}:")]
    assert (page.total, page.offset) == (len(saved), 1)
    assert page.items and {item.uri for item in page.items} <= set(saved)
    for item in page.items:
        assert item.detail is not None
        assert f"added {library[item.uri]:%Y-%m-%d}" in item.detail


async def test_playlists_are_read_without_a_date(
    spotify_sandbox: SpotifySandbox, api: SpotifyUserApi
) -> None:
    page = await SAVED_LISTS["playlists"].page(api, 0, 50)
    assert page.items
    assert set(spotify_sandbox.users["user1"].playlists) <= {item.id for item in page.items}
    assert all("added" not in (item.detail or "") for item in page.items)
