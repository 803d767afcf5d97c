"""Items shared to a channel, who saved them, and each guild's share channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import upsert_insert
from bot.db.models import GuildSettings, Share, ShareSave


async def create_share(
    session: AsyncSession,
    *,
    guild_id: int | None,
    channel_id: int,
    sharer_id: int,
    uri: str,
    title: str,
    note: str | None,
    now: datetime,
) -> int:
    """Store a share (its message comes later, `attach_message`); returns its id."""
    share = Share(
        guild_id=guild_id,
        channel_id=channel_id,
        sharer_id=sharer_id,
        uri=uri,
        title=title[:512],
        note=note,
        created_at=now,
        save_count=0,
    )
    session.add(share)
    await session.flush()
    return share.id


async def attach_message(session: AsyncSession, share_id: int, message_id: int) -> None:
    await session.execute(update(Share).where(Share.id == share_id).values(message_id=message_id))


async def add_save(
    session: AsyncSession, share_id: int, discord_user_id: int, now: datetime
) -> int | None:
    """Count one member's save of a share once: the new count, or None when the share is gone
    or the member saved it already.

    The share's row is locked first (PostgreSQL), so a share deleted meanwhile (its sharer
    unlinked) is seen as gone rather than failing the save's foreign key.
    """
    if await session.scalar(select(Share.id).where(Share.id == share_id).with_for_update()) is None:
        return None
    insert = upsert_insert(session)
    added = await session.scalar(
        insert(ShareSave)
        .values(share_id=share_id, discord_user_id=discord_user_id, saved_at=now)
        .on_conflict_do_nothing()
        .returning(ShareSave.share_id)
    )
    if added is None:
        return None
    count: int | None = await session.scalar(
        update(Share)
        .where(Share.id == share_id)
        .values(save_count=Share.save_count + 1)
        .returning(Share.save_count)
    )
    return count


async def share_channel(session: AsyncSession, guild_id: int) -> int | None:
    channel: int | None = await session.scalar(
        select(GuildSettings.share_channel_id).where(GuildSettings.guild_id == guild_id)
    )
    return channel


async def set_share_channel(session: AsyncSession, guild_id: int, channel_id: int | None) -> None:
    insert = upsert_insert(session)
    stmt = insert(GuildSettings).values(guild_id=guild_id, share_channel_id=channel_id)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["guild_id"], set_={"share_channel_id": stmt.excluded.share_channel_id}
        )
    )
