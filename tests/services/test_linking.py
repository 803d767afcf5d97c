"""The OAuth link flow against the Spotify sandbox: states, the callback, storing the link."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import GuildMember, OAuthState, TopSnapshot
from bot.domain import LinkStatus
from bot.services.linking import (
    STATE_LIFETIME,
    LinkError,
    LinkFailure,
    LinkingService,
    LinkResult,
    hash_state,
    new_browser_secret,
)
from sandbox.browser import consent as browser_consent
from tests.helpers.accounts import Accounts
from tests.helpers.community import GUILD, World, artist

START = "https://encore.test/link"
Sessions = async_sessionmaker[AsyncSession]


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
    url = await linking.start(
        member,
        guild_id=GUILD,
        application_id=5,
        interaction_token="tok",
        member_name=f"member{member}",
        guild_name="The Guild",
    )
    assert url.startswith(f"{START}?state=")
    return parse_qs(urlsplit(url).query)["state"][0]


@dataclass(frozen=True)
class Callback:
    """What Spotify sends a browser back with, and that browser's secret."""

    state: str
    code: str
    browser_secret: str


async def consent(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession, member: int, user: str
) -> Callback:
    """Start a link, open its page, send its form and consent as the sandbox `user`."""
    state = await start(linking, member)
    page = await linking.open_page(state, None)
    accounts.sandbox.authorizing_user = user
    authorize = await linking.authorize_url(state, page.browser_secret, page.form_token)
    query = parse_qs(urlsplit(await browser_consent(http, authorize)).query)
    return Callback(query["state"][0], query["code"][0], page.browser_secret)


async def complete(linking: LinkingService, callback: Callback) -> LinkResult:
    return await linking.complete(
        state=callback.state,
        code=callback.code,
        error=None,
        browser_secret=callback.browser_secret,
    )


async def link(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession, member: int, user: str
) -> None:
    result = await complete(linking, await consent(accounts, linking, http, member, user))
    assert result.pending.discord_user_id == member


def code_exchanges(accounts: Accounts) -> int:
    return len(accounts.sandbox.requests_to("/api/token"))


async def test_states_are_stored_hashed_and_one_per_member(
    accounts: Accounts, linking: LinkingService
) -> None:
    first = await start(linking, 1)
    second = await start(linking, 1)
    async with accounts.sessions() as session:
        stored = set(await session.scalars(select(OAuthState.state_hash)))
    assert stored == {hash_state(second)}
    with pytest.raises(LinkError) as refused:
        await linking.open_page(first, None)
    assert refused.value.failure is LinkFailure.UNKNOWN_STATE


async def test_an_expired_state_says_so_and_is_used_up(
    accounts: Accounts, linking: LinkingService
) -> None:
    state = await start(linking, 1)
    accounts.clock.advance(STATE_LIFETIME + timedelta(seconds=1))
    with pytest.raises(LinkError) as expired:
        await linking.complete(state=state, code="code", error=None, browser_secret=None)
    assert expired.value.failure is LinkFailure.EXPIRED_STATE
    assert expired.value.pending is not None
    assert expired.value.pending.interaction_token == "tok"
    with pytest.raises(LinkError) as again:
        await linking.complete(state=state, code="code", error=None, browser_secret=None)
    assert again.value.failure is LinkFailure.UNKNOWN_STATE


async def test_a_completed_link_is_active_due_and_known_linked(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession
) -> None:
    await link(accounts, linking, http, 1, "user0")
    row = await accounts.link_row(1)
    assert (row.status, row.spotify_user_id, row.sync_due_at) == (
        LinkStatus.ACTIVE,
        "user0",
        accounts.clock.now,
    )
    assert 1 in accounts.accounts.linked
    account = await accounts.accounts.find(1)
    assert account is not None and account.usable and account.spotify_user_id == "user0"


async def test_an_account_linked_by_another_member_is_not_moved(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession
) -> None:
    """Changed deliberately (issue 13): the account used to move to the new member and the
    holder's data was deleted; now nothing changes until the holder unlinks."""
    await link(accounts, linking, http, 1, "user0")
    world = World(accounts.sessions)
    await world.join(1)
    await world.set_list(1, [artist(1)])
    before = await accounts.link_row(1)
    with pytest.raises(LinkError) as refused:
        await link(accounts, linking, http, 2, "user0")
    assert refused.value.failure is LinkFailure.LINKED_ELSEWHERE
    assert refused.value.pending is not None
    assert refused.value.pending.discord_user_id == 2
    after = await accounts.link_row(1)
    assert (after.spotify_user_id, after.refresh_token_enc, after.status) == (
        before.spotify_user_id,
        before.refresh_token_enc,
        LinkStatus.ACTIVE,
    )
    assert 1 in accounts.accounts.linked and 2 not in accounts.accounts.linked
    assert await accounts.accounts.find(2) is None
    async with accounts.sessions() as session:
        assert await session.scalar(select(TopSnapshot.discord_user_id)) == 1
        members = await session.scalars(select(GuildMember.discord_user_id))
        assert list(members) == [1]


async def test_the_page_is_bound_to_the_first_browser_that_opens_it(
    accounts: Accounts, linking: LinkingService
) -> None:
    state = await start(linking, 1)
    first = await linking.open_page(state, None)
    assert (first.member_name, first.guild_name) == ("member1", "The Guild")
    again = await linking.open_page(state, first.browser_secret)
    assert again == first
    for other in (None, new_browser_secret()):
        with pytest.raises(LinkError) as refused:
            await linking.open_page(state, other)
        assert refused.value.failure is LinkFailure.OTHER_BROWSER
    async with accounts.sessions() as session:
        row = await session.get(OAuthState, hash_state(state))
    assert row is not None and row.browser_hash == hash_state(first.browser_secret)


async def test_a_browser_keeps_its_secret_across_links(linking: LinkingService) -> None:
    first = await linking.open_page(await start(linking, 1), None)
    second = await linking.open_page(await start(linking, 2), first.browser_secret)
    assert second.browser_secret == first.browser_secret
    assert second.form_token != first.form_token


async def test_the_form_needs_its_token_and_the_bound_browser(
    accounts: Accounts, linking: LinkingService
) -> None:
    state = await start(linking, 1)
    page = await linking.open_page(state, None)
    other_state = await start(linking, 2)
    other_page = await linking.open_page(other_state, page.browser_secret)
    attempts = [
        (page.browser_secret, None, LinkFailure.FORM_REFUSED),
        (page.browser_secret, "forged", LinkFailure.FORM_REFUSED),
        (page.browser_secret, other_page.form_token, LinkFailure.FORM_REFUSED),
        (None, page.form_token, LinkFailure.OTHER_BROWSER),
        (new_browser_secret(), page.form_token, LinkFailure.OTHER_BROWSER),
    ]
    for secret, token, failure in attempts:
        with pytest.raises(LinkError) as refused:
            await linking.authorize_url(state, secret, token)
        assert refused.value.failure is failure
    url = await linking.authorize_url(state, page.browser_secret, page.form_token)
    assert parse_qs(urlsplit(url).query)["show_dialog"] == ["true"]


async def test_the_callback_needs_the_bound_browser_and_leaves_the_state_to_it(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession
) -> None:
    callback = await consent(accounts, linking, http, 1, "user0")
    for secret in (None, new_browser_secret()):
        with pytest.raises(LinkError) as refused:
            await linking.complete(
                state=callback.state, code=callback.code, error=None, browser_secret=secret
            )
        assert refused.value.failure is LinkFailure.OTHER_BROWSER
        assert refused.value.pending is None
    assert code_exchanges(accounts) == 0
    result = await complete(linking, callback)
    assert result.spotify_user_id == "user0"


@asynccontextmanager
async def row_locked(sessions: Sessions, state: str) -> AsyncIterator[bool]:
    """On PostgreSQL, hold the pending state's row lock (yields True), so concurrent claims
    of it all wait and then race once it is released; SQLite runs one writer at a time."""
    async with sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            yield False
            return
        await session.execute(
            select(OAuthState).where(OAuthState.state_hash == hash_state(state)).with_for_update()
        )
        yield True
        await session.rollback()


async def wait_for_lock_waiters(sessions: Sessions, count: int) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(1000):
        async with sessions() as session:
            if (await session.scalar(query) or 0) >= count:
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} transactions never waited on the lock")


async def test_concurrent_callbacks_with_one_state_exchange_the_code_once(
    accounts: Accounts, linking: LinkingService, http: aiohttp.ClientSession
) -> None:
    callback = await consent(accounts, linking, http, 1, "user0")
    async with row_locked(accounts.sessions, callback.state) as locked:
        claims = [asyncio.create_task(complete(linking, callback)) for _ in range(5)]
        if locked:
            await wait_for_lock_waiters(accounts.sessions, len(claims))
    outcomes = await asyncio.gather(*claims, return_exceptions=True)
    assert code_exchanges(accounts) == 1
    refused = [o for o in outcomes if isinstance(o, LinkError)]
    assert [o.failure for o in refused] == [LinkFailure.UNKNOWN_STATE] * 4
    assert [o.spotify_user_id for o in outcomes if isinstance(o, LinkResult)] == ["user0"]


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
