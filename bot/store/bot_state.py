"""Small facts the bot keeps about itself, by key (e.g. the digest of the last command sync)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import upsert_insert
from bot.db.models import BotState


async def get_value(session: AsyncSession, key: str) -> str | None:
    state = await session.get(BotState, key)
    return None if state is None else state.value


async def set_value(session: AsyncSession, key: str, value: str) -> None:
    stmt = upsert_insert(session)(BotState).values(key=key, value=value)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})
    )
