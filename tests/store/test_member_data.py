"""Forgetting a member: every row about them goes, and only theirs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import (
    Base,
    GuildMember,
    ImportLink,
    MemberRecording,
    MemberVisibility,
    OAuthState,
    Play,
    PlayDay,
    PlayTotal,
    Share,
    ShareSave,
    SpotifyLink,
    TopItem,
    TopSnapshot,
    UserPlayPeriod,
)
from bot.store.member_data import remove_member_data
from bot.store.oauth_states import replace_state
from bot.store.shares import add_save, create_share
from tests.helpers.community import NOW, World, artist, assert_matches_rebuild

Sessions = async_sessionmaker[AsyncSession]
PER_MEMBER = (TopItem, TopSnapshot, OAuthState, ImportLink, ShareSave, SpotifyLink)
KEPT_WITH_MEMBERSHIPS = (GuildMember, MemberVisibility)
# Plays stay after /unlink unless the member asks to delete them (bot.store.plays.delete_plays),
# and so does their /privacy record choice, which is about Discord listening, not the link.
KEPT_ON_UNLINK = (Play, PlayDay, PlayTotal, UserPlayPeriod, MemberRecording)


async def everything_of(sessions: Sessions, user: int) -> dict[str, int | None]:
    """Rows per table that belong to the member (shares by sharer)."""
    counts: dict[str, int | None] = {}
    async with sessions() as session:
        for model in (*PER_MEMBER, *KEPT_WITH_MEMBERSHIPS):
            counts[model.__tablename__] = await session.scalar(
                select(func.count()).select_from(model).where(model.discord_user_id == user)
            )
        counts["shares"] = await session.scalar(
            select(func.count()).select_from(Share).where(Share.sharer_id == user)
        )
    return counts


async def full_member(sessions: Sessions, user: int, other: int) -> None:
    """A member with a list, a pending state, a share `other` saved, and a save of their own."""
    world = World(sessions)
    await world.member(user, [artist(user), artist(100)])
    async with session_scope(sessions) as session:
        await replace_state(
            session,
            state_hash=f"hash{user}",
            discord_user_id=user,
            guild_id=None,
            application_id=None,
            code_verifier_enc=b"v",
            interaction_token_enc=None,
            created_at=NOW,
            expires_at=NOW + timedelta(minutes=10),
        )
        share = await create_share(
            session,
            guild_id=1,
            channel_id=5,
            sharer_id=user,
            uri=f"spotify:track:{user}",
            title="t",
            note=None,
            now=NOW,
        )
        await add_save(session, share, other, NOW)
        await add_save(session, share, user, NOW)


async def test_forgetting_a_member_deletes_all_their_rows_and_counts(db_sessions: Sessions) -> None:
    await full_member(db_sessions, 1, other=2)
    await full_member(db_sessions, 2, other=1)
    before = await everything_of(db_sessions, 2)
    async with session_scope(db_sessions) as session:
        await remove_member_data(session, 1)
    assert set((await everything_of(db_sessions, 1)).values()) == {0}
    after = await everything_of(db_sessions, 2)
    assert after == {**before, "share_saves": (before["share_saves"] or 0) - 1}
    await assert_matches_rebuild(db_sessions)


async def test_a_changed_account_keeps_memberships_and_shares(db_sessions: Sessions) -> None:
    await full_member(db_sessions, 1, other=2)
    async with session_scope(db_sessions) as session:
        await remove_member_data(session, 1, keep_memberships=True)
    left = await everything_of(db_sessions, 1)
    assert {table: n for table, n in left.items() if n} == {"guild_members": 1, "shares": 1}
    await assert_matches_rebuild(db_sessions)


def test_every_table_keyed_by_member_is_covered() -> None:
    keyed = {
        table.name
        for table in Base.metadata.sorted_tables
        if "discord_user_id" in table.c and not table.name.startswith("guild_")
    }
    covered = (*PER_MEMBER, *KEPT_WITH_MEMBERSHIPS, *KEPT_ON_UNLINK)
    assert keyed == {model.__tablename__ for model in covered if model is not GuildMember}
