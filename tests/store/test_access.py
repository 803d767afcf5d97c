"""What the access rule reads about a member in one guild."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import LinkStatus
from bot.store.access import StoredMember, link_status, stored_member
from tests.helpers.community import GUILD, OTHER_GUILD, World


async def test_membership_visibility_and_link_in_one_read(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = World(db_sessions)
    await world.member(1)
    await world.join(2)
    await world.set_visible(2, False)
    await world.link(3, LinkStatus.REVOKED)
    await world.set_visible(3, False, OTHER_GUILD)

    async with db_sessions() as session:
        assert await stored_member(session, GUILD, 1) == StoredMember(
            recorded=True, visible=True, link=LinkStatus.ACTIVE
        )
        assert await stored_member(session, GUILD, 2) == StoredMember(
            recorded=True, visible=False, link=None
        )
        assert await stored_member(session, GUILD, 3) == StoredMember(
            recorded=False, visible=True, link=LinkStatus.REVOKED
        )
        assert await stored_member(session, OTHER_GUILD, 3) == StoredMember(
            recorded=False, visible=False, link=LinkStatus.REVOKED
        )
        assert await link_status(session, 1) is LinkStatus.ACTIVE
        assert await link_status(session, 2) is None
