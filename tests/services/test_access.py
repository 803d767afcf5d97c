"""The access rule: whose data a command may show, checked once, in a fixed order."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import GuildMember, GuildScoreMember, SpotifyLink
from bot.domain import (
    InvalidInput,
    LinkBroken,
    LinkStatus,
    MemberHidden,
    MemberNotLinked,
    NotAMember,
    NotLinked,
)
from bot.services.access import AccessService, Asked, Subject
from bot.services.linked_members import LinkedMembers
from bot.services.members import MembershipService
from tests.helpers.community import GUILD, OTHER_GUILD, World, artist

ASKER = 1


@pytest.fixture
async def world(db_sessions: async_sessionmaker[AsyncSession]) -> World:
    world = World(db_sessions)
    await world.member(ASKER, [artist(1)])
    return world


@pytest.fixture
def members(db_sessions: async_sessionmaker[AsyncSession]) -> MembershipService:
    return MembershipService(db_sessions)


@pytest.fixture
async def linked(db_sessions: async_sessionmaker[AsyncSession], world: World) -> LinkedMembers:
    linked = LinkedMembers(db_sessions)
    await linked.load()
    return linked


@pytest.fixture
def access(
    db_sessions: async_sessionmaker[AsyncSession],
    linked: LinkedMembers,
    members: MembershipService,
) -> AccessService:
    return AccessService(db_sessions, linked, members)


def about(user: int, in_guild: bool = True) -> Asked:
    return Asked(user, f"member {user}", in_guild)


async def recorded(sessions: async_sessionmaker[AsyncSession], guild: int, user: int) -> bool:
    async with sessions() as session:
        return await session.get(GuildMember, (guild, user)) is not None


async def counted(sessions: async_sessionmaker[AsyncSession], guild: int, user: int) -> bool:
    async with sessions() as session:
        found = await session.scalar(
            select(GuildScoreMember.discord_user_id).where(
                GuildScoreMember.guild_id == guild, GuildScoreMember.discord_user_id == user
            )
        )
    return found is not None


async def test_the_invoker_needs_a_working_link_only_for_their_spotify_data(
    world: World, access: AccessService
) -> None:
    assert await access.check(guild_id=GUILD, invoker_id=ASKER) == Subject(ASKER, ASKER)
    with pytest.raises(NotLinked):
        await access.check(guild_id=GUILD, invoker_id=9)
    assert (await access.check(guild_id=GUILD, invoker_id=9, spotify=False)).is_invoker
    await world.link(8, LinkStatus.REVOKED)
    with pytest.raises(LinkBroken):
        await access.check(guild_id=None, invoker_id=8)


async def test_the_invoker_sees_their_own_data_while_hidden(
    world: World, access: AccessService
) -> None:
    await world.set_visible(ASKER, False)
    subject = await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(ASKER))
    assert subject.is_invoker


async def test_a_known_link_is_trusted_from_memory_and_an_unknown_one_looked_up(
    world: World,
    access: AccessService,
    linked: LinkedMembers,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await world.link(6)
    await linked.load()
    async with session_scope(db_sessions) as session:
        await session.execute(delete(SpotifyLink).where(SpotifyLink.discord_user_id == 6))
    await access.check(guild_id=GUILD, invoker_id=6)

    await world.link(5)
    assert 5 not in linked
    await access.check(guild_id=GUILD, invoker_id=5)
    assert 5 in linked


async def test_another_member_is_shown_when_current_visible_and_linked(
    world: World, access: AccessService
) -> None:
    await world.member(2, [artist(2)])
    subject = await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2))
    assert subject == Subject(2, ASKER) and not subject.is_invoker


async def test_nobody_else_is_shown_outside_a_server(world: World, access: AccessService) -> None:
    await world.member(2, [artist(2)])
    with pytest.raises(InvalidInput):
        await access.check(guild_id=None, invoker_id=ASKER, asked=about(2, in_guild=False))


async def test_a_member_of_another_guild_only_is_refused_whatever_they_chose(
    world: World, access: AccessService
) -> None:
    await world.member(2, [artist(2)], guild=OTHER_GUILD)
    with pytest.raises(NotAMember):
        await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2, in_guild=False))
    await world.set_visible(2, False, OTHER_GUILD)
    with pytest.raises(NotAMember):
        await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2, in_guild=False))


async def test_hidden_in_one_guild_is_shown_in_another_they_are_in(
    world: World, access: AccessService
) -> None:
    await world.member(2, [artist(2)])
    await world.join(2, OTHER_GUILD)
    await world.set_visible(2, False, OTHER_GUILD)
    assert await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2))
    with pytest.raises(MemberHidden):
        await access.check(guild_id=OTHER_GUILD, invoker_id=ASKER, asked=about(2))


async def test_hidden_comes_before_not_linked_so_a_hidden_link_is_not_revealed(
    world: World, access: AccessService
) -> None:
    await world.join(2)
    with pytest.raises(MemberNotLinked):
        await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2))
    await world.set_visible(2, False)
    with pytest.raises(MemberHidden):
        await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2))


async def test_a_member_who_never_linked_passes_when_no_spotify_data_is_read(
    world: World, access: AccessService
) -> None:
    await world.join(2)
    subject = await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2), spotify=False)
    assert subject.discord_user_id == 2
    await world.member(3)
    await world.set_status(3, LinkStatus.NOT_ALLOWED)
    with pytest.raises(MemberNotLinked):
        await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(3))


async def test_the_invokers_link_is_checked_first_when_both_are_read(
    world: World, access: AccessService
) -> None:
    await world.join(9)
    await world.set_visible(2, False)
    with pytest.raises(NotLinked):
        await access.check(guild_id=GUILD, invoker_id=9, asked=about(2), invoker_linked=True)
    with pytest.raises(MemberHidden):
        await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2), invoker_linked=True)


async def test_the_choice_to_hide_survives_leaving_and_rejoining(
    world: World, access: AccessService, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await world.member(2, [artist(2)])
    await world.set_visible(2, False)
    await world.leave(2)
    await world.join(2)
    with pytest.raises(MemberHidden):
        await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2))
    assert not await counted(db_sessions, GUILD, 2)


async def test_a_stored_membership_discord_no_longer_confirms_is_forgotten(
    world: World, access: AccessService, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    await world.member(2, [artist(2)])
    assert await counted(db_sessions, GUILD, 2)
    with pytest.raises(NotAMember):
        await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2, in_guild=False))
    assert not await recorded(db_sessions, GUILD, 2)
    assert not await counted(db_sessions, GUILD, 2)


async def test_a_current_member_not_stored_yet_is_recorded(
    world: World,
    access: AccessService,
    members: MembershipService,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await world.link(2)
    await world.set_list(2, [artist(2)])
    assert not await recorded(db_sessions, GUILD, 2)
    await access.check(guild_id=GUILD, invoker_id=ASKER, asked=about(2))
    await members.drain()
    assert await recorded(db_sessions, GUILD, 2)
    assert await counted(db_sessions, GUILD, 2)


async def test_memory_clears_the_invoker_only_when_it_knows_their_link(
    world: World, access: AccessService
) -> None:
    assert access.cleared(guild_id=GUILD, invoker_id=ASKER)
    assert not access.cleared(guild_id=GUILD, invoker_id=9)
    assert access.cleared(guild_id=GUILD, invoker_id=9, spotify=False)
    assert not access.cleared(guild_id=GUILD, invoker_id=9, asked=about(2), invoker_linked=True)


async def test_memory_clears_another_member_only_when_nothing_stands_against_them(
    world: World, access: AccessService, members: MembershipService, linked: LinkedMembers
) -> None:
    await world.member(2, [artist(2)])
    await linked.load()  # member 2 was linked after the fixture loaded the set
    assert access.cleared(guild_id=GUILD, invoker_id=ASKER, asked=about(2))
    assert access.cleared(guild_id=GUILD, invoker_id=9, asked=about(3), spotify=False)
    assert not access.cleared(guild_id=GUILD, invoker_id=ASKER, asked=about(3))
    assert not access.cleared(guild_id=GUILD, invoker_id=ASKER, asked=about(2, in_guild=False))
    assert not access.cleared(guild_id=None, invoker_id=ASKER, asked=about(2))
    await members.set_visible(GUILD, 2, False)
    assert not access.cleared(guild_id=GUILD, invoker_id=ASKER, asked=about(2), spotify=False)
    assert access.cleared(guild_id=OTHER_GUILD, invoker_id=ASKER, asked=about(2), spotify=False)


async def test_hidden_members_are_loaded_and_choices_made_while_loading_win(
    world: World, members: MembershipService
) -> None:
    await world.set_visible(2, False)
    await world.set_visible(3, False)
    hidden = members.hidden
    await hidden.load()
    assert hidden.hidden(GUILD, 2) and hidden.hidden(GUILD, 3)
    assert not hidden.hidden(OTHER_GUILD, 2)
    await world.set_visible(3, True)
    original = hidden._sessions

    class MarkWhileLoading:
        def __call__(self) -> object:
            hidden.mark(GUILD, 2, True)
            return original()

    hidden._sessions = MarkWhileLoading()  # type: ignore[assignment]
    await hidden.load()
    assert not hidden.hidden(GUILD, 2)
    assert not hidden.hidden(GUILD, 3)
