"""Pending /import links: one per member, expired ones swept, marked used once an import ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.db.engine import Sessions, session_scope
from bot.store.import_links import get_link, mark_link_used, replace_link

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


async def store(sessions: Sessions, token_hash: str, user: int, at: datetime) -> None:
    async with session_scope(sessions) as session:
        await replace_link(
            session,
            token_hash=token_hash,
            discord_user_id=user,
            member_name=f"member {user}",
            guild_id=None,
            interaction_token_enc=None,
            application_id=None,
            created_at=at,
            expires_at=at + timedelta(minutes=30),
        )


async def test_a_new_link_replaces_the_members_earlier_one_and_expired_ones(
    each_db_sessions: Sessions,
) -> None:
    await store(each_db_sessions, "old-of-1", 1, NOW)
    await store(each_db_sessions, "of-2", 2, NOW - timedelta(hours=1))
    await store(each_db_sessions, "of-3", 3, NOW)
    await store(each_db_sessions, "new-of-1", 1, NOW + timedelta(minutes=1))
    async with each_db_sessions() as session:
        assert await get_link(session, "old-of-1") is None
        assert await get_link(session, "of-2") is None  # expired before the new link was made
        kept = [await get_link(session, h) for h in ("of-3", "new-of-1")]
    assert [link.discord_user_id for link in kept if link is not None] == [3, 1]


async def test_marking_used_records_when(each_db_sessions: Sessions) -> None:
    await store(each_db_sessions, "h", 1, NOW)
    async with session_scope(each_db_sessions) as session:
        await mark_link_used(session, "h", NOW + timedelta(minutes=5))
    async with each_db_sessions() as session:
        link = await get_link(session, "h")
    assert link is not None and link.used_at == NOW + timedelta(minutes=5)
