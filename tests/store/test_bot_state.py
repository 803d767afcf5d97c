"""The bot's own key-value facts."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.store.bot_state import get_value, set_value


async def test_values_are_stored_and_replaced_by_key(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session:
        assert await get_value(session, "commands:1:global") is None
    for digest in ("first", "second"):
        async with session_scope(db_sessions) as session:
            await set_value(session, "commands:1:global", digest)
            await set_value(session, "commands:1:42", "other")
        async with db_sessions() as session:
            assert await get_value(session, "commands:1:global") == digest
            assert await get_value(session, "commands:1:42") == "other"
