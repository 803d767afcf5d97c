"""Refuse to start with encryption keys that cannot read the database's tokens.

A process with the wrong key would mark every link it touches as broken for good (members
then have to /link again). So the database remembers fingerprints (bot.db.vault.key_fingerprint)
of the keys that have encrypted its tokens, newest first, and a process starts only when one of
its keys is among them. A rotation (new key first, old key after it) passes on the old key and
records the new one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope, upsert_insert
from bot.db.models import BotState, SpotifyLink
from bot.db.vault import TokenUndecryptable, TokenVault, key_fingerprint

log = logging.getLogger(__name__)

FINGERPRINTS_STATE_KEY = "token_key_fingerprints"
FINGERPRINTS_KEPT = 10


class KeyMismatch(Exception):
    """None of this process's keys wrote the database's tokens; the message says what to do."""


def _mismatch(mine: Sequence[str], stored: Sequence[str]) -> KeyMismatch:
    return KeyMismatch(
        "The encryption key does not match the database: its Spotify tokens were written "
        f"with key(s) {', '.join(stored)} (fingerprints) and this process has "
        f"{', '.join(mine)}. Set TOKEN_ENCRYPTION_KEY to the key this database was written "
        "with, the same on every process (while rotating: the new key first, then the old "
        "one). `python -m bot genkey` is only for a new, empty database."
    )


async def _readable_by(session: AsyncSession, keys: Sequence[str]) -> bool:
    """Whether `keys` decrypt a stored token (True when there is none to try)."""
    stored = await session.scalar(select(SpotifyLink.refresh_token_enc).limit(1))
    if stored is None:
        return True
    try:
        TokenVault(keys).decrypt(stored)
    except TokenUndecryptable:
        return False
    return True


async def check_key_fingerprints(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[str]
) -> None:
    """Raise `KeyMismatch` unless one of `keys` is a key the database's tokens were written
    with; record the first (encrypting) key when it is new. A database without fingerprints
    (new, or written before they were kept) gets this process's, once a stored token, if
    any, proved readable."""
    mine = [key_fingerprint(key) for key in keys]
    async with session_scope(sessions) as session:
        existing = await session.scalar(
            select(BotState.value).where(BotState.key == FINGERPRINTS_STATE_KEY)
        )
        if existing is None and not await _readable_by(session, keys):
            raise _mismatch(mine, ["(not recorded; a stored token did not decrypt)"])
        insert = upsert_insert(session)
        await session.execute(
            insert(BotState)
            .values(key=FINGERPRINTS_STATE_KEY, value=",".join(mine))
            .on_conflict_do_nothing(index_elements=[BotState.key])
        )
        value = await session.scalar(
            select(BotState.value).where(BotState.key == FINGERPRINTS_STATE_KEY).with_for_update()
        )
        stored = [fingerprint for fingerprint in (value or "").split(",") if fingerprint]
        if not set(stored) & set(mine):
            raise _mismatch(mine, stored)
        if stored[0] not in mine:
            log.warning(
                "another process encrypts tokens with key %s, which this one does not have: "
                "give every process the same TOKEN_ENCRYPTION_KEY list",
                stored[0],
            )
        if mine[0] not in stored:
            recorded = [mine[0], *stored][:FINGERPRINTS_KEPT]
            await session.execute(
                update(BotState)
                .where(BotState.key == FINGERPRINTS_STATE_KEY)
                .values(value=",".join(recorded))
            )
            log.info("recorded the new encryption key %s for this database", mine[0])
