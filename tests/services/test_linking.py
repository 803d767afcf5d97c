"""The OAuth link flow against the Spotify sandbox: states, the callback, storing the link."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select

from bot.db.models import GuildMember, OAuthState, TopSnapshot
from bot.domain import LinkStatus
from bot.services.linking import (
    STATE_LIFETIME,
    LinkError,
    LinkFailure,
    LinkingService,
    hash_state,
)
from tests.helpers.accounts import Accounts
from tests.helpers.community import GUILD, World, artist

START = "https://encore.test/link"


@pytest.fixture
def linking(accounts: Accounts) -> LinkingService:
    return LinkingService(
        accounts.sessions,
        accounts.vault,
        accounts.oauth,
        accounts.client,
        start_url=START,
        clock=accounts.clock,
        linked=accounts.accounts.linked,
    )


async def start(linking: LinkingService, member: int) -> str:
    url = await linking.start(member, guild_id=GUILD, application_id=5, interaction_token="tok")
    assert url.startswith(f"{START}?state=")
    return parse_qs(urlsplit(url).query)["state"][0]


async def consent(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession, member: int, user: str
) -> tuple[str, str]:
    """Start a link and consent as the sandbox `user`: the callback's state and code."""
    state = await start(linking, member)
    accounts.sandbox.authorizing_user = user
    async with http.get(await linking.authorize_url(state), allow_redirects=False) as response:
        query = parse_qs(urlsplit(response.headers["Location"]).query)
    return query["state"][0], query["code"][0]


async def link(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession, member: int, user: str
) -> int | None:
    state, code = await consent(accounts, linking, http, member, user)
    result = await linking.complete(state=state, code=code, error=None)
    assert result.pending.discord_user_id == member
    return result.moved_from


async def test_states_are_stored_hashed_and_one_per_member(
    accounts: Accounts, linking: LinkingService
) -> None:
    first = await start(linking, 1)
    second = await start(linking, 1)
    async with accounts.sessions() as session:
        stored = set(await session.scalars(select(OAuthState.state_hash)))
    assert stored == {hash_state(second)}
    with pytest.raises(LinkError) as refused:
        await linking.authorize_url(first)
    assert refused.value.failure is LinkFailure.UNKNOWN_STATE


async def test_an_expired_state_says_so_and_is_used_up(
    accounts: Accounts, linking: LinkingService
) -> None:
    state = await start(linking, 1)
    accounts.clock.advance(STATE_LIFETIME + timedelta(seconds=1))
    with pytest.raises(LinkError) as expired:
        await linking.complete(state=state, code="code", error=None)
    assert expired.value.failure is LinkFailure.EXPIRED_STATE
    assert expired.value.pending is not None
    assert expired.value.pending.interaction_token == "tok"
    with pytest.raises(LinkError) as again:
        await linking.complete(state=state, code="code", error=None)
    assert again.value.failure is LinkFailure.UNKNOWN_STATE


async def test_a_completed_link_is_active_due_and_known_linked(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession
) -> None:
    assert await link(accounts, linking, http, 1, "user0") is None
    row = await accounts.link_row(1)
    assert (row.status, row.spotify_user_id, row.sync_due_at) == (
        LinkStatus.ACTIVE,
        "user0",
        accounts.clock.now,
    )
    assert 1 in accounts.accounts.linked
    account = await accounts.accounts.find(1)
    assert account is not None and account.usable and account.spotify_user_id == "user0"


async def test_an_account_linked_by_another_member_moves_with_nothing_left_behind(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession
) -> None:
    await link(accounts, linking, http, 1, "user0")
    world = World(accounts.sessions)
    await world.join(1)
    await world.set_list(1, [artist(1)])
    assert await link(accounts, linking, http, 2, "user0") == 1
    assert 1 not in accounts.accounts.linked
    assert await accounts.accounts.find(1) is None
    async with accounts.sessions() as session:
        left = await session.scalars(
            select(GuildMember.discord_user_id).where(GuildMember.discord_user_id == 1)
        )
        assert list(left) == []


async def test_another_account_drops_the_old_lists_and_keeps_memberships(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession
) -> None:
    await link(accounts, linking, http, 1, "user0")
    world = World(accounts.sessions)
    await world.join(1)
    await world.set_list(1, [artist(1)])
    first_linked = (await accounts.link_row(1)).linked_at
    accounts.clock.advance(timedelta(days=1))
    await link(accounts, linking, http, 1, "user1")
    row = await accounts.link_row(1)
    assert row.spotify_user_id == "user1"
    assert row.linked_at == accounts.clock.now != first_linked
    async with accounts.sessions() as session:
        assert await session.scalar(select(TopSnapshot.discord_user_id)) is None
        assert await session.scalar(select(GuildMember.discord_user_id)) == 1


async def test_relinking_the_same_account_keeps_the_lists(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession
) -> None:
    await link(accounts, linking, http, 1, "user0")
    await World(accounts.sessions).set_list(1, [artist(1)])
    first_linked = (await accounts.link_row(1)).linked_at
    accounts.clock.advance(timedelta(days=1))
    await link(accounts, linking, http, 1, "user0")
    row = await accounts.link_row(1)
    assert (row.linked_at, row.authorized_at) == (first_linked, accounts.clock.now)
    async with accounts.sessions() as session:
        assert await session.scalar(select(TopSnapshot.discord_user_id)) == 1
