import asyncio
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.keycheck import FINGERPRINTS_STATE_KEY, KeyMismatch, check_key_fingerprints
from bot.db.models import BotState, SpotifyLink
from bot.db.vault import TokenVault, key_fingerprint

Sessions = async_sessionmaker[AsyncSession]


def new_key() -> str:
    return Fernet.generate_key().decode()


async def recorded(sessions: Sessions) -> list[str]:
    async with sessions() as session:
        value = await session.scalar(
            select(BotState.value).where(BotState.key == FINGERPRINTS_STATE_KEY)
        )
    return value.split(",") if value else []


async def store_link(sessions: Sessions, key: str) -> None:
    vault = TokenVault([key])
    now = datetime.now(UTC)
    async with session_scope(sessions) as session:
        session.add(
            SpotifyLink(
                discord_user_id=1,
                spotify_account_id="acct",
                spotify_user_id="user",
                display_name="User",
                access_token_enc=vault.encrypt("access"),
                refresh_token_enc=vault.encrypt("refresh"),
                access_expires_at=now,
                authorized_at=now,
                linked_at=now,
            )
        )


def test_a_fingerprint_names_a_key_without_revealing_it() -> None:
    key = new_key()
    assert key_fingerprint(key) == key_fingerprint(f" {key}\n")
    assert key_fingerprint(key) != key_fingerprint(new_key())
    assert key_fingerprint(key) not in key and len(key_fingerprint(key)) == 16


async def test_the_first_start_records_the_key_and_later_starts_with_it_pass(
    db_sessions: Sessions,
) -> None:
    key = new_key()
    await check_key_fingerprints(db_sessions, [key])
    assert await recorded(db_sessions) == [key_fingerprint(key)]
    await check_key_fingerprints(db_sessions, [key])
    assert await recorded(db_sessions) == [key_fingerprint(key)]


async def test_another_key_is_refused_with_what_to_do(db_sessions: Sessions) -> None:
    written_with = new_key()
    await check_key_fingerprints(db_sessions, [written_with])
    with pytest.raises(KeyMismatch) as refused:
        await check_key_fingerprints(db_sessions, [new_key()])
    message = str(refused.value)
    assert key_fingerprint(written_with) in message
    assert "TOKEN_ENCRYPTION_KEY" in message and "genkey" in message and "new" in message
    assert written_with not in message
    assert await recorded(db_sessions) == [key_fingerprint(written_with)]


async def test_a_rotation_passes_on_the_old_key_and_records_the_new_one(
    db_sessions: Sessions,
) -> None:
    old, new = new_key(), new_key()
    await check_key_fingerprints(db_sessions, [old])
    await check_key_fingerprints(db_sessions, [new, old])
    assert await recorded(db_sessions) == [key_fingerprint(new), key_fingerprint(old)]
    await check_key_fingerprints(db_sessions, [new])  # every token rewritten: old key dropped
    await check_key_fingerprints(db_sessions, [old])  # a process not yet given the new key
    with pytest.raises(KeyMismatch):
        await check_key_fingerprints(db_sessions, [new_key()])


async def test_a_database_with_tokens_but_no_fingerprint_checks_a_token(
    db_sessions: Sessions,
) -> None:
    written_with = new_key()
    await store_link(db_sessions, written_with)
    with pytest.raises(KeyMismatch):
        await check_key_fingerprints(db_sessions, [new_key()])
    assert await recorded(db_sessions) == []
    await check_key_fingerprints(db_sessions, [written_with])
    assert await recorded(db_sessions) == [key_fingerprint(written_with)]


async def test_processes_starting_together_agree_on_one_record(db_sessions: Sessions) -> None:
    key = new_key()
    await asyncio.gather(*(check_key_fingerprints(db_sessions, [key]) for _ in range(4)))
    assert await recorded(db_sessions) == [key_fingerprint(key)]
