"""Items shared to a channel, and who saved them with the share's button."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import GuildSettings, Share, ShareSave
from bot.services.items import ItemSummary
from bot.spotify.ids import SAVE_KINDS, SpotifyKind

SHARE_KINDS = (*SAVE_KINDS, SpotifyKind.ARTIST, SpotifyKind.PLAYLIST)


class ShareService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self,
        *,
        guild_id: int | None,
        channel_id: int,
        sharer_id: int,
        item: ItemSummary,
        note: str | None,
    ) -> int:
        async with session_scope(self._sessions) as session:
            share = Share(
                guild_id=guild_id,
                channel_id=channel_id,
                sharer_id=sharer_id,
                uri=item.uri,
                title=item.name[:512],
                note=note,
                created_at=datetime.now(UTC),
                save_count=0,
            )
            session.add(share)
            await session.flush()
            return share.id

    async def attach_message(self, share_id: int, message_id: int) -> None:
        async with session_scope(self._sessions) as session:
            await session.execute(
                update(Share).where(Share.id == share_id).values(message_id=message_id)
            )

    async def record_save(self, share_id: int, discord_user_id: int) -> int | None:
        """Count one member's save once; returns the new count, or None when not counted."""
        try:
            async with session_scope(self._sessions) as session:
                if await session.get(Share, share_id) is None:
                    return None
                session.add(
                    ShareSave(
                        share_id=share_id,
                        discord_user_id=discord_user_id,
                        saved_at=datetime.now(UTC),
                    )
                )
                await session.flush()
                await session.execute(
                    update(Share)
                    .where(Share.id == share_id)
                    .values(save_count=Share.save_count + 1)
                )
                count = await session.scalar(select(Share.save_count).where(Share.id == share_id))
        except IntegrityError:
            return None
        return count

    async def share_channel(self, guild_id: int) -> int | None:
        async with self._sessions() as session:
            settings = await session.get(GuildSettings, guild_id)
            return settings.share_channel_id if settings else None

    async def set_share_channel(self, guild_id: int, channel_id: int | None) -> None:
        async with session_scope(self._sessions) as session:
            settings = await session.get(GuildSettings, guild_id)
            if settings is None:
                session.add(GuildSettings(guild_id=guild_id, share_channel_id=channel_id))
            else:
                settings.share_channel_id = channel_id
