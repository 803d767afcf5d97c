"""Shares as the share command and its button use them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.items import ItemSummary
from bot.services.shares import ShareService
from bot.spotify.ids import SpotifyKind


async def test_a_share_counts_each_members_save_once(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    shares = ShareService(db_sessions)
    item = ItemSummary(SpotifyKind.TRACK, "4uLU6hMCjMI75M1A2tKUQC", "Song", "by someone")
    share_id = await shares.create(guild_id=1, channel_id=2, sharer_id=3, item=item, note=None)
    await shares.attach_message(share_id, 4)
    assert [await shares.record_save(share_id, user) for user in (5, 6, 5)] == [1, 2, None]
    assert await shares.record_save(share_id + 1, 5) is None


async def test_the_share_channel_is_per_guild(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    shares = ShareService(db_sessions)
    assert await shares.share_channel(1) is None
    await shares.set_share_channel(1, 10)
    await shares.set_share_channel(2, 20)
    await shares.set_share_channel(1, 11)
    assert (await shares.share_channel(1), await shares.share_channel(2)) == (11, 20)
    await shares.set_share_channel(1, None)
    assert await shares.share_channel(1) is None
