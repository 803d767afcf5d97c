"""Shares: stored, tied to their message, saves counted once, and the share channel."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import Share
from bot.store.shares import (
    add_save,
    attach_message,
    create_share,
    set_share_channel,
    share_channel,
)
from tests.helpers.community import NOW

Sessions = async_sessionmaker[AsyncSession]


async def new_share(sessions: Sessions, title: str = "Song") -> int:
    async with session_scope(sessions) as session:
        return await create_share(
            session,
            guild_id=1,
            channel_id=2,
            sharer_id=3,
            uri="spotify:track:abc",
            title=title,
            note="listen",
            now=NOW,
        )


async def read_share(sessions: Sessions, share_id: int) -> Share:
    async with sessions() as session:
        share = await session.get(Share, share_id)
    assert share is not None
    return share


async def test_a_share_is_stored_and_tied_to_its_message(db_sessions: Sessions) -> None:
    share_id = await new_share(db_sessions, "x" * 600)
    async with session_scope(db_sessions) as session:
        await attach_message(session, share_id, 99)
    share = await read_share(db_sessions, share_id)
    assert (share.guild_id, share.channel_id, share.sharer_id, share.message_id) == (1, 2, 3, 99)
    assert (share.uri, share.note, share.save_count, share.created_at) == (
        "spotify:track:abc",
        "listen",
        0,
        NOW,
    )
    assert share.title == "x" * 512


async def test_each_member_saves_a_share_once(db_sessions: Sessions) -> None:
    share_id = await new_share(db_sessions)
    counts = []
    for user in (10, 11, 10):
        async with session_scope(db_sessions) as session:
            counts.append(await add_save(session, share_id, user, NOW))
    assert counts == [1, 2, None]
    assert (await read_share(db_sessions, share_id)).save_count == 2


async def test_a_save_of_a_missing_share_is_not_counted(db_sessions: Sessions) -> None:
    async with session_scope(db_sessions) as session:
        assert await add_save(session, 12345, 10, NOW) is None


async def test_the_share_channel_is_set_changed_and_cleared(db_sessions: Sessions) -> None:
    for channel in (5, 6, None):
        async with session_scope(db_sessions) as session:
            await set_share_channel(session, 1, channel)
        async with db_sessions() as session:
            assert await share_channel(session, 1) == channel
            assert await share_channel(session, 2) is None
