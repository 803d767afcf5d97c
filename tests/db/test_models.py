from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import CatalogItem, OAuthState, SpotifyLink, TopItem, TopSnapshot
from bot.domain import ItemKind, LinkStatus, TimeRange

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
MEMBER = 123456789012345678

Sessions = async_sessionmaker[AsyncSession]


def link(discord_user_id: int = MEMBER, **overrides: object) -> SpotifyLink:
    values: dict[str, object] = {
        "discord_user_id": discord_user_id,
        "spotify_account_id": f"acct-{discord_user_id}",
        "spotify_user_id": f"user-{discord_user_id}",
        "access_token_enc": b"a",
        "refresh_token_enc": b"r",
        "access_expires_at": NOW + timedelta(hours=1),
        "authorized_at": NOW,
        "linked_at": NOW,
    }
    values.update(overrides)
    return SpotifyLink(**values)


def oauth_state(state_hash: str, expires_at: datetime) -> OAuthState:
    return OAuthState(
        state_hash=state_hash,
        discord_user_id=MEMBER,
        code_verifier_enc=b"v",
        created_at=NOW,
        expires_at=expires_at,
    )


async def add_top_artists(sessions: Sessions, count: int) -> None:
    async with session_scope(sessions) as session:
        session.add(link())
        items = [
            CatalogItem(
                kind=ItemKind.ARTIST, spotify_id=f"artist{n}", name=f"Artist {n}", updated_at=NOW
            )
            for n in range(count)
        ]
        session.add_all(items)
        session.add(
            TopSnapshot(
                discord_user_id=MEMBER,
                kind=ItemKind.ARTIST,
                time_range=TimeRange.SHORT,
                fetched_at=NOW,
                item_count=count,
            )
        )
        await session.flush()
        session.add_all(
            TopItem(
                discord_user_id=MEMBER,
                kind=ItemKind.ARTIST,
                time_range=TimeRange.SHORT,
                rank=rank,
                item_id=item.id,
            )
            for rank, item in enumerate(items, start=1)
        )


async def count(sessions: Sessions, model: type[object]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_deleting_a_snapshot_deletes_its_items(each_db_sessions: Sessions) -> None:
    await add_top_artists(each_db_sessions, 3)
    assert await count(each_db_sessions, TopItem) == 3

    async with session_scope(each_db_sessions) as session:
        await session.execute(delete(TopSnapshot))

    assert await count(each_db_sessions, TopItem) == 0
    assert await count(each_db_sessions, CatalogItem) == 3


async def test_unlinking_deletes_snapshots_and_their_items(each_db_sessions: Sessions) -> None:
    await add_top_artists(each_db_sessions, 2)

    async with session_scope(each_db_sessions) as session:
        await session.execute(delete(SpotifyLink).where(SpotifyLink.discord_user_id == MEMBER))

    assert await count(each_db_sessions, TopSnapshot) == 0
    assert await count(each_db_sessions, TopItem) == 0


async def test_foreign_keys_are_enforced(each_db_sessions: Sessions) -> None:
    with pytest.raises(IntegrityError):
        async with session_scope(each_db_sessions) as session:
            session.add(TopItem(discord_user_id=MEMBER, kind=1, time_range=1, rank=1, item_id=999))


async def test_naive_datetimes_are_refused(each_db_sessions: Sessions) -> None:
    with pytest.raises(StatementError) as caught:
        async with session_scope(each_db_sessions) as session:
            session.add(link(linked_at=datetime(2026, 5, 1, 12, 0)))
    assert isinstance(caught.value.orig, ValueError)
    assert await count(each_db_sessions, SpotifyLink) == 0


async def test_aware_datetimes_come_back_as_the_same_instant_in_utc(
    each_db_sessions: Sessions,
) -> None:
    paris_summer = timezone(timedelta(hours=2))
    local = datetime(2026, 5, 1, 14, 30, 15, 123456, tzinfo=paris_summer)
    async with session_scope(each_db_sessions) as session:
        session.add(link(linked_at=local, synced_at=None))

    async with each_db_sessions() as session:
        stored = await session.get_one(SpotifyLink, MEMBER)
    assert stored.linked_at == local
    assert stored.linked_at.utcoffset() == timedelta(0)
    assert stored.linked_at.hour == 12
    assert stored.synced_at is None


async def test_datetime_comparisons_respect_offsets(each_db_sessions: Sessions) -> None:
    async with session_scope(each_db_sessions) as session:
        session.add(oauth_state("early", datetime(2026, 5, 1, 11, 0, tzinfo=UTC)))
        session.add(oauth_state("late", datetime(2026, 5, 1, 13, 0, tzinfo=UTC)))

    new_york = timezone(timedelta(hours=-4))
    noon_utc_in_new_york = datetime(2026, 5, 1, 8, 0, tzinfo=new_york)
    async with each_db_sessions() as session:
        expired = await session.scalars(
            select(OAuthState.state_hash).where(OAuthState.expires_at < noon_utc_in_new_york)
        )
        assert list(expired) == ["early"]


async def test_link_status_is_stored_as_its_value(each_db_sessions: Sessions) -> None:
    async with session_scope(each_db_sessions) as session:
        session.add(link(status=LinkStatus.NOT_ALLOWED))

    async with each_db_sessions() as session:
        raw = await session.scalar(text("SELECT status FROM spotify_links"))
        loaded = await session.scalar(select(SpotifyLink.status))
    assert raw == "not_allowed"
    assert loaded is LinkStatus.NOT_ALLOWED
