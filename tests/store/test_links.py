"""Link queries: lookups, creating and renewing a link, tokens, status and the link facts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.domain import LinkStatus
from bot.store.links import (
    LinkFacts,
    NewTokens,
    active_link_ids,
    get_link,
    holder_of_account,
    linked_among,
    lock_link,
    mark_link,
    put_link,
    read_link_facts,
    replace_tokens,
)
from tests.helpers.community import NOW, World, artist, assert_matches_rebuild, score_rows
from tests.helpers.links import add_links, link_row, read_link

Sessions = async_sessionmaker[AsyncSession]
TOKENS = NewTokens(b"new-access", b"new-refresh", NOW + timedelta(hours=1), "a b")


async def test_lookups_by_member_status_and_account(db_sessions: Sessions) -> None:
    await add_links(
        db_sessions,
        link_row(1),
        link_row(2, LinkStatus.REVOKED),
        link_row(3, account="shared"),
    )
    async with db_sessions() as session:
        assert await active_link_ids(session) == {1, 3}
        assert await linked_among(session, [2, 3, 4]) == {2, 3}
        assert await holder_of_account(session, "shared", other_than=5) == 3
        assert await holder_of_account(session, "shared", other_than=3) is None
        link = await get_link(session, 2)
        assert link is not None and link.status is LinkStatus.REVOKED
        assert await get_link(session, 4) is None


async def test_a_fresh_read_sees_what_another_session_changed(db_sessions: Sessions) -> None:
    await add_links(db_sessions, link_row(1))
    async with db_sessions() as session:
        held = await get_link(session, 1)
        assert held is not None
        async with session_scope(db_sessions) as other:
            await replace_tokens(other, 1, b"refresh", TOKENS)
        assert (await get_link(session, 1)) is held
        assert held.access_token_enc == b"access"
        await get_link(session, 1, fresh=True)
        assert held.access_token_enc == b"new-access"


async def put(sessions: Sessions, user: int, account: str) -> None:
    async with session_scope(sessions) as session:
        await put_link(
            session,
            user,
            spotify_account_id=account,
            spotify_user_id=f"spotify{user}",
            display_name="One",
            avatar_url="https://example.test/a.png",
            tokens=TOKENS,
            now=NOW,
        )


async def test_a_new_link_is_active_and_due_now(db_sessions: Sessions) -> None:
    await put(db_sessions, 1, "acc")
    link = await read_link(db_sessions, 1)
    assert link is not None
    assert (link.status, link.linked_at, link.authorized_at, link.sync_due_at) == (
        LinkStatus.ACTIVE,
        NOW,
        NOW,
        NOW,
    )
    assert (link.spotify_account_id, link.spotify_user_id, link.display_name) == (
        "acc",
        "spotify1",
        "One",
    )
    assert (link.access_token_enc, link.refresh_token_enc, link.scopes) == (
        b"new-access",
        b"new-refresh",
        "a b",
    )


async def test_a_renewed_link_keeps_its_first_date_and_counts_again(db_sessions: Sessions) -> None:
    earlier = NOW - timedelta(days=30)
    world = World(db_sessions)
    await add_links(db_sessions, link_row(1, LinkStatus.REVOKED, linked_at=earlier))
    await world.join(1)
    await world.set_list(1, [artist(1)])
    await put(db_sessions, 1, "account1")
    link = await read_link(db_sessions, 1)
    assert link is not None
    assert (link.linked_at, link.authorized_at, link.status) == (earlier, NOW, LinkStatus.ACTIVE)
    async with db_sessions() as session:
        counted, _, _ = await score_rows(session)
    assert {row[3] for row in counted} == {1}
    await assert_matches_rebuild(db_sessions)


async def test_refreshed_tokens_replace_the_stored_ones(db_sessions: Sessions) -> None:
    await add_links(db_sessions, link_row(1), link_row(2))
    async with session_scope(db_sessions) as session:
        assert await replace_tokens(session, 1, b"refresh", TOKENS)
    one, two = await read_link(db_sessions, 1), await read_link(db_sessions, 2)
    assert one is not None and two is not None
    assert (one.access_token_enc, one.refresh_token_enc) == (b"new-access", b"new-refresh")
    assert (one.access_expires_at, one.scopes) == (TOKENS.access_expires_at, "a b")
    assert two.access_token_enc == b"access"


async def test_refreshed_tokens_never_replace_other_ones(db_sessions: Sessions) -> None:
    """A refresh that finishes after a relink (or another refresh) stores nothing."""
    await add_links(db_sessions, link_row(1), link_row(2, LinkStatus.REVOKED))
    async with session_scope(db_sessions) as session:
        assert not await replace_tokens(session, 1, b"relinked-meanwhile", TOKENS)
        assert not await replace_tokens(session, 2, b"refresh", TOKENS)
    for member in (1, 2):
        link = await read_link(db_sessions, member)
        assert link is not None
        assert (link.access_token_enc, link.refresh_token_enc) == (b"access", b"refresh")


async def test_lock_link_reads_the_link_or_none(db_sessions: Sessions) -> None:
    await add_links(db_sessions, link_row(1))
    async with session_scope(db_sessions) as session:
        link = await lock_link(session, 1)
        assert link is not None and link.refresh_token_enc == b"refresh"
        assert await lock_link(session, 2) is None


async def test_a_refused_refresh_token_marks_only_while_it_is_stored(
    db_sessions: Sessions,
) -> None:
    await add_links(db_sessions, link_row(1), link_row(2))
    async with session_scope(db_sessions) as session:
        assert not await mark_link(session, 1, LinkStatus.REVOKED, if_refresh_enc=b"older")
        assert await mark_link(session, 2, LinkStatus.REVOKED, if_refresh_enc=b"refresh")
    one, two = await read_link(db_sessions, 1), await read_link(db_sessions, 2)
    assert one is not None and one.status is LinkStatus.ACTIVE
    assert two is not None and two.status is LinkStatus.REVOKED


async def test_marking_a_link_withdraws_its_lists_and_spares_other_statuses(
    db_sessions: Sessions,
) -> None:
    world = World(db_sessions)
    await world.member(1, [artist(1), artist(2)])
    await world.member(2, [artist(2)])
    await world.link(3, LinkStatus.BROKEN)
    async with session_scope(db_sessions) as session:
        await mark_link(session, 1, LinkStatus.REVOKED)
        await mark_link(session, 3, LinkStatus.NOT_ALLOWED)
    one, three = await read_link(db_sessions, 1), await read_link(db_sessions, 3)
    assert one is not None and one.status is LinkStatus.REVOKED
    assert three is not None and three.status is LinkStatus.BROKEN
    async with db_sessions() as session:
        counted, _, _ = await score_rows(session)
    assert {row[3] for row in counted} == {2}
    await assert_matches_rebuild(db_sessions)


async def test_link_facts_count_active_links_and_find_the_stalest(db_sessions: Sessions) -> None:
    await add_links(
        db_sessions,
        link_row(1, linked_at=NOW - timedelta(days=9), synced_at=NOW - timedelta(hours=1)),
        link_row(2, linked_at=NOW - timedelta(hours=5)),
        link_row(3, linked_at=NOW - timedelta(days=2), synced_at=NOW - timedelta(hours=3)),
        link_row(4, LinkStatus.REVOKED, linked_at=NOW - timedelta(days=30)),
        link_row(
            5,
            LinkStatus.BROKEN,
            linked_at=NOW - timedelta(days=40),
            synced_at=NOW - timedelta(days=20),
        ),
    )
    async with db_sessions() as session:
        facts = await read_link_facts(session)
    assert facts == LinkFacts(active=3, oldest_sync=NOW - timedelta(hours=5))


async def test_link_facts_of_an_empty_database(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        assert await read_link_facts(session) == LinkFacts(active=0, oldest_sync=None)
