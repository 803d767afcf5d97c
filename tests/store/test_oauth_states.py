"""Pending OAuth states: one per member, expired ones swept, each taken once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import OAuthState
from bot.store.oauth_states import bind_browser, get_state, replace_state, take_state
from tests.helpers.community import NOW

Sessions = async_sessionmaker[AsyncSession]
LIFETIME = timedelta(minutes=10)


async def start(sessions: Sessions, state_hash: str, user: int, at: datetime = NOW) -> None:
    async with session_scope(sessions) as session:
        await replace_state(
            session,
            state_hash=state_hash,
            discord_user_id=user,
            guild_id=7,
            application_id=8,
            code_verifier_enc=b"verifier",
            interaction_token_enc=b"token",
            created_at=at,
            expires_at=at + LIFETIME,
        )


async def hashes(sessions: Sessions) -> set[str]:
    async with sessions() as session:
        return set(await session.scalars(select(OAuthState.state_hash)))


async def test_a_new_state_replaces_the_members_older_one(db_sessions: Sessions) -> None:
    await start(db_sessions, "a", 1)
    await start(db_sessions, "b", 2)
    await start(db_sessions, "c", 1)
    assert await hashes(db_sessions) == {"b", "c"}
    async with db_sessions() as session:
        row = await get_state(session, "c")
    assert row is not None
    assert (row.discord_user_id, row.guild_id, row.application_id) == (1, 7, 8)
    assert (row.code_verifier_enc, row.interaction_token_enc) == (b"verifier", b"token")
    assert row.expires_at == NOW + LIFETIME


async def test_expired_states_are_swept_when_a_state_is_stored(db_sessions: Sessions) -> None:
    await start(db_sessions, "old", 1)
    await start(db_sessions, "live", 2, at=NOW + LIFETIME / 2)
    await start(db_sessions, "new", 3, at=NOW + LIFETIME + timedelta(seconds=1))
    assert await hashes(db_sessions) == {"live", "new"}


async def test_a_state_is_taken_once(db_sessions: Sessions) -> None:
    await start(db_sessions, "a", 1)
    async with session_scope(db_sessions) as session:
        taken = await take_state(session, "a")
    assert taken is not None and taken.discord_user_id == 1
    async with session_scope(db_sessions) as session:
        assert await take_state(session, "a") is None
        assert await get_state(session, "a") is None


async def test_a_state_is_bound_to_the_first_browser_only(db_sessions: Sessions) -> None:
    await start(db_sessions, "a", 1)
    async with session_scope(db_sessions) as session:
        assert await bind_browser(session, "a", "first")
        assert not await bind_browser(session, "a", "second")
        assert not await bind_browser(session, "missing", "first")
    async with db_sessions() as session:
        row = await get_state(session, "a")
    assert row is not None and row.browser_hash == "first"


async def test_a_bound_state_is_taken_only_by_its_browser(db_sessions: Sessions) -> None:
    await start(db_sessions, "a", 1)
    async with session_scope(db_sessions) as session:
        await bind_browser(session, "a", "first")
    async with session_scope(db_sessions) as session:
        assert await take_state(session, "a", browser_hash="second") is None
    async with session_scope(db_sessions) as session:
        taken = await take_state(session, "a", browser_hash="first")
    assert taken is not None and (taken.discord_user_id, taken.browser_hash) == (1, "first")
    assert await hashes(db_sessions) == set()
