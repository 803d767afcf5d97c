"""Members' /privacy choices per guild, apart from their memberships."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import GuildMember, MemberVisibility
from bot.store import visibility
from bot.store.member_data import remove_member_data
from tests.helpers.community import GUILD, NOW, OTHER_GUILD, World


async def choices(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[int, int, bool]]:
    async with sessions() as session:
        rows = await session.execute(
            select(
                MemberVisibility.guild_id,
                MemberVisibility.discord_user_id,
                MemberVisibility.visible,
            ).order_by(MemberVisibility.guild_id, MemberVisibility.discord_user_id)
        )
    return [(row[0], row[1], row[2]) for row in rows]


async def test_visible_unless_hidden_and_the_last_choice_wins(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(db_sessions) as session:
        assert await visibility.is_visible(session, GUILD, 1)
        await visibility.set_visible(session, GUILD, 1, False, NOW)
        assert not await visibility.is_visible(session, GUILD, 1)
        assert await visibility.is_visible(session, OTHER_GUILD, 1)
        await visibility.set_visible(session, GUILD, 1, True, NOW)
        assert await visibility.is_visible(session, GUILD, 1)
    assert await choices(db_sessions) == [(GUILD, 1, True)]


async def test_shown_in_filters_memberships_of_hidden_members(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    for user in (1, 2, 3):
        await world.join(user)
    await world.join(2, OTHER_GUILD)
    await world.set_visible(2, False)
    await world.set_visible(3, True)
    async with db_sessions() as session:
        shown = await session.execute(
            select(GuildMember.guild_id, GuildMember.discord_user_id)
            .where(visibility.shown_in(GuildMember.guild_id, GuildMember.discord_user_id))
            .order_by(GuildMember.guild_id, GuildMember.discord_user_id)
        )
        assert [tuple(row) for row in shown] == [(GUILD, 1), (GUILD, 3), (OTHER_GUILD, 2)]


async def test_choices_outlive_memberships_until_the_member_is_forgotten(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    for user in (1, 2):
        await world.member(user)
        await world.set_visible(user, False)
    await world.leave(1)
    async with session_scope(db_sessions) as session:
        await remove_member_data(session, 2, keep_memberships=True)
    assert await choices(db_sessions) == [(GUILD, 1, False), (GUILD, 2, False)]

    await world.unlink(2)
    async with session_scope(db_sessions) as session:
        await visibility.forget_choices(session, 1)
    assert await choices(db_sessions) == []
