"""A member's top lists: served from the stored snapshot while fresh, else fetched and stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.domain import ItemKind, LinkBroken, TimeRange
from bot.services.top import TopService
from bot.spotify.errors import InvalidGrant, SpotifyUnavailable, Unauthorized
from sandbox.spotify_faults import SandboxFaults
from tests.helpers.accounts import Accounts

MAX_AGE = timedelta(hours=1)
TOP = "/me/top"


@pytest.fixture
def top(accounts: Accounts) -> TopService:
    return TopService(accounts.sessions, accounts.accounts, MAX_AGE, clock=accounts.clock)


async def test_a_fresh_snapshot_is_served_and_a_stale_one_refetched(
    accounts: Accounts, top: TopService
) -> None:
    await accounts.link(1, "user0")
    expected = list(accounts.sandbox.users["user0"].top_artists["short_term"])
    fetched = await top.top(1, ItemKind.ARTIST, TimeRange.SHORT)
    assert not fetched.from_snapshot
    assert [item.id for item in fetched.items] == expected
    assert fetched.fetched_at == accounts.clock.now
    requests = len(accounts.sandbox.requests_to(TOP))

    accounts.clock.advance(MAX_AGE / 2)
    stored = await top.top(1, ItemKind.ARTIST, TimeRange.SHORT)
    assert stored.from_snapshot and stored.items == fetched.items
    assert len(accounts.sandbox.requests_to(TOP)) == requests

    accounts.clock.advance(MAX_AGE)
    again = await top.top(1, ItemKind.ARTIST, TimeRange.SHORT)
    assert not again.from_snapshot and again.fetched_at == accounts.clock.now
    assert len(accounts.sandbox.requests_to(TOP)) > requests


async def test_ensure_fetches_only_the_lists_missing(accounts: Accounts, top: TopService) -> None:
    await accounts.link(1, "user0")
    await top.refresh(1, ItemKind.TRACK, TimeRange.LONG, interactive=True)
    assert await top.stored(1, ItemKind.ARTIST, TimeRange.LONG) is None
    accounts.clock.advance(timedelta(days=30))
    await top.ensure(1, TimeRange.LONG)
    artists = await top.stored(1, ItemKind.ARTIST, TimeRange.LONG)
    tracks = await top.stored(1, ItemKind.TRACK, TimeRange.LONG)
    assert artists is not None and artists.fetched_at == accounts.clock.now
    assert tracks is not None and tracks.fetched_at < accounts.clock.now
    assert await top.stored(1, ItemKind.ARTIST, TimeRange.SHORT) is None


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda faults: faults.server_error(count=100), id="5xx"),
        pytest.param(lambda faults: faults.rate_limit(retry_after=3600), id="429"),
        pytest.param(
            lambda faults: faults.rate_limit(retry_after=3600, reason="QUOTA_EXCEEDED"),
            id="quota",
        ),
    ],
)
async def test_a_stale_snapshot_is_served_when_spotify_fails(
    accounts: Accounts, top: TopService, fault: Callable[[SandboxFaults], None]
) -> None:
    await accounts.link(1, "user0")
    fetched = await top.top(1, ItemKind.TRACK, TimeRange.MEDIUM)
    accounts.clock.advance(MAX_AGE * 3)
    fault(accounts.sandbox.faults)

    served = await top.top(1, ItemKind.TRACK, TimeRange.MEDIUM)

    assert served.spotify_failed and served.from_snapshot
    assert [item.id for item in served.items] == [item.id for item in fetched.items]
    assert served.fetched_at == fetched.fetched_at
    stored = await top.stored(1, ItemKind.TRACK, TimeRange.MEDIUM)
    assert stored is not None and stored.fetched_at == fetched.fetched_at


async def test_without_a_snapshot_the_spotify_failure_is_raised(
    accounts: Accounts, top: TopService
) -> None:
    await accounts.link(1, "user0")
    accounts.sandbox.faults.server_error(count=100)
    with pytest.raises(SpotifyUnavailable):
        await top.top(1, ItemKind.TRACK, TimeRange.MEDIUM)


async def test_a_revoked_link_is_not_hidden_behind_a_stale_snapshot(
    accounts: Accounts, top: TopService
) -> None:
    await accounts.link(1, "user0")
    await top.top(1, ItemKind.ARTIST, TimeRange.MEDIUM)
    accounts.clock.advance(MAX_AGE * 3)
    accounts.sandbox.revoke("user0")
    with pytest.raises((InvalidGrant, Unauthorized, LinkBroken)):
        await top.top(1, ItemKind.ARTIST, TimeRange.MEDIUM)
