"""A member's stored tokens: decrypted on demand, refreshed and stored again, or the link marked."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.db.vault import TokenVault
from bot.domain import LinkBroken, LinkStatus, NotLinked
from bot.services.tokens import MemberTokens
from bot.spotify.errors import InvalidGrant
from tests.helpers.accounts import Accounts


class Marks:
    def __init__(self) -> None:
        self.calls: list[tuple[int, LinkStatus]] = []

    async def __call__(self, discord_user_id: int, status: LinkStatus) -> None:
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
