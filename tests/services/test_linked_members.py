"""The in-memory set of linked members: what it trusts, what it looks up, how it stays current
(as the access rule uses it for the invoker's link, before a command's first answer)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import SpotifyLink
from bot.db.vault import TokenVault
from bot.domain import LinkBroken, LinkStatus, NotLinked
from bot.services.access import AccessService
from bot.services.accounts import AccountService
from bot.services.linked_members import LinkedMembers
from bot.services.members import MembershipService
from bot.spotify.client import SpotifyClient
from bot.spotify.errors import InvalidGrant
from sandbox.population import link_members, sandbox_oauth
from sandbox.spotify import SpotifySandbox


@dataclass
class Stack:
    sessions: async_sessionmaker[AsyncSession]
    sandbox: SpotifySandbox
    vault: TokenVault
    accounts: AccountService

    async def ensure_linked(self, discord_user_id: int) -> None:
        """The access rule for a command reading the invoker's Spotify account."""
        access = AccessService(
            self.sessions, self.accounts.linked, MembershipService(self.sessions)
        )
        await access.check(guild_id=None, invoker_id=discord_user_id)


@pytest.fixture
async def stack(
    spotify_sandbox: SpotifySandbox, db_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Stack]:
    async with aiohttp.ClientSession() as http:
        vault = TokenVault([Fernet.generate_key().decode()])
        oauth = sandbox_oauth(spotify_sandbox, http)
        client = SpotifyClient(http, api_url=spotify_sandbox.api_url)
        yield Stack(
            db_sessions, spotify_sandbox, vault, AccountService(db_sessions, vault, oauth, client)
        )


async def set_status(
    sessions: async_sessionmaker[AsyncSession], user: int, status: LinkStatus
) -> None:
    """What another process does behind this one's back."""
    async with sessions() as session:
        await session.execute(
            update(SpotifyLink).where(SpotifyLink.discord_user_id == user).values(status=status)
        )
        await session.commit()


async def delete_link(sessions: async_sessionmaker[AsyncSession], user: int) -> None:
    async with sessions() as session:
        await session.execute(delete(SpotifyLink).where(SpotifyLink.discord_user_id == user))
        await session.commit()


async def test_load_holds_only_active_links(stack: Stack) -> None:
    await link_members(stack.sessions, stack.sandbox, stack.vault, [1, 2, 3])
    await set_status(stack.sessions, 2, LinkStatus.REVOKED)
    linked = LinkedMembers(stack.sessions)
    await linked.load()
    assert (1 in linked, 2 in linked, 3 in linked, 4 in linked) == (True, False, True, False)
    assert len(linked) == 2


async def test_a_known_member_passes_without_the_database(stack: Stack) -> None:
    accounts = stack.accounts
    await link_members(stack.sessions, stack.sandbox, stack.vault, [1])
    await accounts.linked.load()
    await delete_link(stack.sessions, 1)
    await stack.ensure_linked(1)
    assert await accounts.find(1) is None
    assert 1 not in accounts.linked


async def test_a_member_linked_by_another_process_is_found_in_the_database(stack: Stack) -> None:
    accounts = stack.accounts
    await accounts.linked.load()
    with pytest.raises(NotLinked):
        await stack.ensure_linked(1)
    await link_members(stack.sessions, stack.sandbox, stack.vault, [1])
    await stack.ensure_linked(1)
    assert 1 in accounts.linked


async def test_a_broken_link_is_refused_and_forgotten(stack: Stack) -> None:
    accounts = stack.accounts
    await link_members(stack.sessions, stack.sandbox, stack.vault, [1, 2])
    await accounts.linked.load()
    await accounts.mark(1, LinkStatus.BROKEN)
    assert 1 not in accounts.linked
    with pytest.raises(LinkBroken):
        await stack.ensure_linked(1)
    await set_status(stack.sessions, 2, LinkStatus.REVOKED)
    assert 2 in accounts.linked
    await accounts.linked.load()
    with pytest.raises(LinkBroken):
        await stack.ensure_linked(2)
    assert 2 not in accounts.linked


async def test_unlink_is_forgotten_at_once(stack: Stack) -> None:
    accounts = stack.accounts
    await link_members(stack.sessions, stack.sandbox, stack.vault, [1])
    await accounts.linked.load()
    assert await accounts.unlink(1)
    with pytest.raises(NotLinked):
        await stack.ensure_linked(1)


async def test_a_revoked_grant_found_by_a_token_refresh_is_forgotten(stack: Stack) -> None:
    accounts = stack.accounts
    (user,) = await link_members(stack.sessions, stack.sandbox, stack.vault, [1])
    await accounts.linked.load()
    async with stack.sessions() as session:
        link = await session.get(SpotifyLink, user)
        assert link is not None
        stack.sandbox.revoke(link.spotify_user_id)
    with pytest.raises(InvalidGrant):
        await accounts.api(user).me()
    assert user not in accounts.linked
    with pytest.raises(LinkBroken):
        await stack.ensure_linked(user)


async def test_changes_made_while_loading_win_over_the_loaded_rows(stack: Stack) -> None:
    await link_members(stack.sessions, stack.sandbox, stack.vault, [1, 2])
    linked = LinkedMembers(stack.sessions)
    loading = asyncio.create_task(linked.load())
    await asyncio.sleep(0)
    linked.mark(1, False)
    linked.mark(5, True)
    await loading
    assert (1 in linked, 2 in linked, 5 in linked) == (False, True, True)


async def test_keep_current_picks_up_other_processes_changes_until_stopped(
    stack: Stack,
) -> None:
    await link_members(stack.sessions, stack.sandbox, stack.vault, [1])
    linked = LinkedMembers(stack.sessions, reload_seconds=0.05)
    await linked.load()
    task = asyncio.create_task(linked.keep_current())
    await delete_link(stack.sessions, 1)
    await link_members(stack.sessions, stack.sandbox, stack.vault, [2])
    for _ in range(200):
        if 1 not in linked and 2 in linked:
            break
        await asyncio.sleep(0.01)
    assert (1 in linked, 2 in linked) == (False, True)
    linked.stop()
    await asyncio.wait_for(task, 1)
