"""Items shared to a channel, and who saved them with the share's button."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db.engine import Sessions, session_scope
from bot.services.items import ItemSummary
from bot.spotify.ids import SAVE_KINDS, SpotifyKind
from bot.store import shares as share_rows

SHARE_KINDS = (*SAVE_KINDS, SpotifyKind.ARTIST, SpotifyKind.PLAYLIST)


class ShareService:
    def __init__(self, sessions: Sessions) -> None:
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
            return await share_rows.create_share(
                session,
                guild_id=guild_id,
                channel_id=channel_id,
                sharer_id=sharer_id,
                uri=item.uri,
                title=item.name,
                note=note,
                now=datetime.now(UTC),
            )

    async def attach_message(self, share_id: int, message_id: int) -> None:
        async with session_scope(self._sessions) as session:
            await share_rows.attach_message(session, share_id, message_id)

    async def record_save(self, share_id: int, discord_user_id: int) -> int | None:
        """Count one member's save once; returns the new count, or None when not counted."""
        async with session_scope(self._sessions) as session:
            return await share_rows.add_save(session, share_id, discord_user_id, datetime.now(UTC))

    async def share_channel(self, guild_id: int) -> int | None:
        async with self._sessions() as session:
            return await share_rows.share_channel(session, guild_id)

    async def set_share_channel(self, guild_id: int, channel_id: int | None) -> None:
        async with session_scope(self._sessions) as session:
            await share_rows.set_share_channel(session, guild_id, channel_id)
