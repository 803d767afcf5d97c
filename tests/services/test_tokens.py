"""A member's stored tokens: decrypted on demand, refreshed and stored again, or the link marked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update

from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.models import SpotifyLink
from bot.db.vault import TokenVault
from bot.domain import LinkBroken, LinkStatus, NotLinked
from bot.services.tokens import MemberTokens
from bot.spotify.errors import InvalidGrant
from bot.spotify.oauth import SpotifyOAuth, TokenSet
from bot.store.links import NewTokens, put_link
from tests.helpers.accounts import Accounts


class Marks:
    def __init__(self) -> None:
        self.calls: list[tuple[int, LinkStatus]] = []

    async def __call__(
        self, discord_user_id: int, status: LinkStatus, *, if_refresh_enc: bytes | None = None
    ) -> None:
        self.calls.append((discord_user_id, status))


def tokens_of(
    accounts: Accounts, member: int, marks: Marks, vault: TokenVault | None = None
) -> MemberTokens:
    return MemberTokens(
        member, accounts.sessions, vault or accounts.vault, accounts.oauth, mark=marks
    )


async def test_the_current_token_is_the_stored_one_decrypted(accounts: Accounts) -> None:
    await accounts.link(1, "user0")
    tokens = tokens_of(accounts, 1, Marks())
    token, expires_at = await tokens.current_token()
    link = await accounts.link_row(1)
    assert token == accounts.vault.decrypt(link.access_token_enc)
    assert expires_at == link.access_expires_at
    assert tokens.scopes == frozenset(link.scopes.split())


async def test_a_refresh_stores_the_new_tokens_encrypted(accounts: Accounts) -> None:
    await accounts.link(1, "user0")
    await accounts.link(2, "user1")
    before = await accounts.link_row(2)
    tokens = tokens_of(accounts, 1, Marks())
    old, _ = await tokens.current_token()
    new = await tokens.refresh()
    assert new != old
    assert await tokens.current_token() == (new, (await accounts.link_row(1)).access_expires_at)
    link = await accounts.link_row(1)
    assert new.encode() not in link.access_token_enc
    assert accounts.vault.decrypt(link.access_token_enc) == new
    assert (await accounts.link_row(2)).access_token_enc == before.access_token_enc


async def test_a_refused_refresh_marks_the_link_revoked(accounts: Accounts) -> None:
    await accounts.link(1, "user0")
    accounts.sandbox.revoke("user0")
    marks = Marks()
    with pytest.raises(InvalidGrant):
        await tokens_of(accounts, 1, marks).refresh()
    assert marks.calls == [(1, LinkStatus.REVOKED)]


async def test_tokens_that_no_longer_decrypt_mark_the_link_broken(accounts: Accounts) -> None:
    await accounts.link(1, "user0")
    marks = Marks()
    other_key = TokenVault([Fernet.generate_key().decode()])
    with pytest.raises(LinkBroken):
        await tokens_of(accounts, 1, marks, other_key).current_token()
    with pytest.raises(LinkBroken):
        await tokens_of(accounts, 1, marks, other_key).refresh()
    assert marks.calls == [(1, LinkStatus.BROKEN), (1, LinkStatus.BROKEN)]


async def test_no_token_without_an_active_link(accounts: Accounts) -> None:
    await accounts.link(2, "user1", status=LinkStatus.REVOKED)
    with pytest.raises(NotLinked):
        await tokens_of(accounts, 1, Marks()).current_token()
    with pytest.raises(LinkBroken):
        await tokens_of(accounts, 2, Marks()).refresh()


class SignallingOAuth:
    """Encore's OAuth client, saying when a refresh has started."""

    def __init__(self, oauth: SpotifyOAuth) -> None:
        self.oauth = oauth
        self.started = asyncio.Event()

    async def refresh(self, refresh_token: str) -> TokenSet:
        self.started.set()
        return await self.oauth.refresh(refresh_token)


async def test_two_processes_refreshing_one_member_make_one_token_request(
    accounts: Accounts, db_url: str
) -> None:
    """With refresh-token rotation a second refresh of the old token would be refused and
    mark a good link revoked: the second process waits for the first and uses its tokens."""
    accounts.sandbox.accounts.refresh_token_rotation = "always"
    await accounts.link(1, "user0")
    other_engine = create_engine(db_url)
    try:
        marks = Marks()
        here = tokens_of(accounts, 1, marks)
        there = MemberTokens(
            1, make_session_factory(other_engine), accounts.vault, accounts.oauth, mark=marks
        )
        stale, _ = await here.current_token()
        assert (await there.current_token())[0] == stale
        accounts.sandbox.faults.latency(0.3, path="/api/token")

        first, second = await asyncio.gather(here.refresh(), there.refresh())
    finally:
        await other_engine.dispose()

    assert first == second != stale
    assert len(accounts.sandbox.requests_to("/api/token")) == 1
    assert marks.calls == []
    link = await accounts.link_row(1)
    assert link.status is LinkStatus.ACTIVE
    assert accounts.vault.decrypt(link.access_token_enc) == first
    assert await tokens_of(accounts, 1, marks).refresh() not in (first, stale)


async def test_a_refresh_finishing_after_a_relink_keeps_the_new_tokens(
    accounts: Accounts, db_url: str
) -> None:
    await accounts.link(1, "user0")
    oauth = SignallingOAuth(accounts.oauth)
    tokens = MemberTokens(1, accounts.sessions, accounts.vault, oauth, mark=Marks())  # type: ignore[arg-type]
    await tokens.current_token()
    accounts.sandbox.faults.latency(0.3, path="/api/token")
    relinked = accounts.sandbox.issue_tokens("user0")
    new = NewTokens(
        access_token_enc=accounts.vault.encrypt(relinked["access_token"]),
        refresh_token_enc=accounts.vault.encrypt(relinked["refresh_token"]),
        access_expires_at=datetime.now(UTC) + timedelta(hours=1),
        scopes=relinked["scope"],
    )
    other_engine = create_engine(db_url)
    try:
        refreshing = asyncio.create_task(tokens.refresh())
        await oauth.started.wait()
        async with session_scope(make_session_factory(other_engine)) as session:
            await put_link(
                session,
                1,
                spotify_account_id=accounts.sandbox.users["user0"].account_id,
                spotify_user_id="user0",
                display_name=None,
                avatar_url=None,
                tokens=new,
                now=datetime.now(UTC),
            )
        await refreshing
    finally:
        await other_engine.dispose()

    link = await accounts.link_row(1)
    assert link.status is LinkStatus.ACTIVE
    assert accounts.vault.decrypt(link.access_token_enc) == relinked["access_token"]
    assert accounts.vault.decrypt(link.refresh_token_enc) == relinked["refresh_token"]


async def test_a_refused_refresh_tries_a_token_stored_meanwhile(accounts: Accounts) -> None:
    """invalid_grant is checked against the stored refresh token before the link is marked:
    a relink that came in between is used instead."""
    await accounts.link(1, "user0")
    refused = (await accounts.link_row(1)).refresh_token_enc
    relinked = accounts.sandbox.issue_tokens("user0")

    class RelinkingOAuth:
        def __init__(self, oauth: SpotifyOAuth) -> None:
            self.oauth = oauth
            self.used: list[str] = []

        async def refresh(self, refresh_token: str) -> TokenSet:
            self.used.append(refresh_token)
            if len(self.used) == 1:
                raise InvalidGrant("refused")
            return await self.oauth.refresh(refresh_token)

    oauth = RelinkingOAuth(accounts.oauth)
    marks = Marks()
    tokens = MemberTokens(1, accounts.sessions, accounts.vault, oauth, mark=marks)  # type: ignore[arg-type]
    original = tokens._refresh_locked

    async def relink_after_refusal() -> str | bytes:
        outcome = await original()
        if outcome == refused:
            async with session_scope(accounts.sessions) as session:
                await session.execute(
                    update(SpotifyLink)
                    .where(SpotifyLink.discord_user_id == 1)
                    .values(refresh_token_enc=accounts.vault.encrypt(relinked["refresh_token"]))
                )
        return outcome

    tokens._refresh_locked = relink_after_refusal  # type: ignore[method-assign]
    new = await tokens.refresh()

    assert oauth.used[1] == relinked["refresh_token"]
    assert marks.calls == []
    assert accounts.vault.decrypt((await accounts.link_row(1)).access_token_enc) == new
