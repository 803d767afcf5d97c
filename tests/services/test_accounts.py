"""Linked accounts: finding, requiring, marking and unlinking a member."""

from __future__ import annotations

import logging

import pytest

from bot.domain import LinkStatus
from bot.services.accounts import AccountService
from bot.services.linked_members import LinkedMembers
from tests.helpers.accounts import Accounts
from tests.helpers.community import World, artist, score_rows


async def test_find_reports_the_account_and_keeps_the_linked_set(accounts: Accounts) -> None:
    await accounts.link(1, "user0")
    await accounts.link(2, "user1", status=LinkStatus.REVOKED)
    service = accounts.accounts
    account = await service.find(1)
    assert account is not None and account.usable
    assert (account.spotify_user_id, account.profile_url) == (
        "user0",
        "https://open.spotify.com/user/user0",
    )
    assert 1 in service.linked
    revoked = await service.find(2)
    assert revoked is not None and not revoked.usable
    assert 2 not in service.linked
    assert await service.find(3) is None


async def test_marking_stops_an_active_link_counting_and_is_logged(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    await accounts.link(1, "user0")
    world = World(accounts.sessions)
    await world.join(1)
    await world.set_list(1, [artist(1)])
    await accounts.accounts.find(1)
    with caplog.at_level(logging.WARNING, logger="bot.services.accounts"):
        await accounts.accounts.mark(1, LinkStatus.REVOKED)
    assert (await accounts.link_row(1)).status is LinkStatus.REVOKED
    assert 1 not in accounts.accounts.linked
    async with accounts.sessions() as session:
        counted, _, _ = await score_rows(session)
    assert counted == []
    assert "link of member 1 marked revoked" in caplog.text


async def test_marking_leaves_an_already_stopped_link_as_it_is(accounts: Accounts) -> None:
    await accounts.link(1, "user0", status=LinkStatus.NOT_ALLOWED)
    await accounts.accounts.mark(1, LinkStatus.BROKEN)
    assert (await accounts.link_row(1)).status is LinkStatus.NOT_ALLOWED


async def test_unlink_forgets_the_member_once(accounts: Accounts) -> None:
    await accounts.link(1, "user0")
    await World(accounts.sessions).join(1)
    await accounts.accounts.find(1)
    assert await accounts.accounts.unlink(1)
    assert 1 not in accounts.accounts.linked
    assert await accounts.accounts.find(1) is None
    assert not await accounts.accounts.unlink(1)


async def test_the_api_reads_the_members_own_account(accounts: Accounts) -> None:
    await accounts.link(1, "user1")
    me = await accounts.accounts.api(1).me()
    assert me.id == "user1"


async def test_the_linked_set_handed_in_is_kept_even_when_empty(accounts: Accounts) -> None:
    linked = LinkedMembers(accounts.sessions)
    service = AccountService(
        accounts.sessions, accounts.vault, accounts.oauth, accounts.client, linked
    )
    await accounts.link(1, "user0")
    await service.find(1)
    assert 1 in linked
