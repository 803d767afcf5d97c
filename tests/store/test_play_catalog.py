from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import PlayDay
from bot.domain import ItemKind, PlayIn, PlaySource
from bot.store.play_catalog import TRACK_DAYS, item_days, track_aggregates
from bot.store.plays import find_item, record_plays

T0 = datetime(2026, 10, 1, 20, 0, tzinfo=UTC)


def play(user: int, day: int, title: str, artists: tuple[str, ...], album: str) -> PlayIn:
    return PlayIn(
        discord_user_id=user,
        started_at=T0 + timedelta(days=day, minutes=user),
        ms_played=200_000,
        source=PlaySource.PRESENCE,
        track_name=title,
        artist_names=artists,
        album_name=album,
        duration_ms=200_000,
    )


PLAYS = [
    play(1, 0, "One", ("Alpha",), "First"),
    play(1, 0, "Two", ("Alpha", "Beta"), "First"),
    play(2, 0, "Two", ("Alpha", "Beta"), "First"),
    play(2, 3, "Three", ("Beta",), "Second"),
    play(3, 5, "One", ("Alpha",), "First"),
    play(3, 5, "Four", ("Gamma",), "First"),
    play(3, 6, "Five", ("Gamma",), "Third"),
]


@pytest.fixture
async def recorded(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions on a database holding `PLAYS`."""
    async with each_db_sessions() as session:
        await record_plays(session, PLAYS)
        await session.commit()
    return each_db_sessions


async def _days_by_scan(
    session: AsyncSession, kind: ItemKind, item: int
) -> list[tuple[int, int, int, int]]:
    rows = await session.execute(
        select(PlayDay.discord_user_id, PlayDay.day, PlayDay.plays, PlayDay.ms_played).where(
            PlayDay.kind == int(kind), PlayDay.item_id == item
        )
    )
    return sorted((u, d, p, m) for u, d, p, m in rows)


async def test_an_artists_and_an_albums_day_rows_are_found_through_their_tracks(
    recorded: async_sessionmaker[AsyncSession],
) -> None:
    async with recorded() as session:
        for kind, name, primary in (
            (ItemKind.ARTIST, "Alpha", ""),
            (ItemKind.ARTIST, "Beta", ""),
            (ItemKind.ARTIST, "Gamma", ""),
            (ItemKind.ALBUM, "First", "Alpha"),
            (ItemKind.ALBUM, "Second", "Beta"),
        ):
            item = await find_item(session, kind, name=name, primary_artist=primary)
            assert item is not None
            expected = await _days_by_scan(session, kind, item)
            assert expected, (kind, name)
            found = sorted(
                (u, d, p, m) for u, d, p, m in await session.execute(item_days(kind, item))
            )
            assert found == expected, (kind, name)
        two = await find_item(session, ItemKind.TRACK, name="Two", primary_artist="Alpha")
        assert two is not None
        days, totals = await track_aggregates(session, two)
        assert sorted(days) == await _days_by_scan(session, ItemKind.TRACK, two)
        assert sorted(totals) == [(1, 1, 200_000), (2, 1, 200_000)]


async def _plan(session: AsyncSession, query: Select[int, int, int, int]) -> str:
    """The query's plan as the database runs it prepared: SQLite re-plans for bound values;
    PostgreSQL is made to use the generic plan a prepared statement ends up with."""
    connection = await session.connection()
    compiled = query.compile(dialect=connection.dialect)
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    if connection.dialect.name == "sqlite":
        rows = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params)
        return "\n".join(str(row[-1]) for row in rows)
    await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    await connection.exec_driver_sql("PREPARE day_rows AS " + str(compiled))
    values = ", ".join(str(int(value)) for value in params)
    rows = await connection.exec_driver_sql(f"EXPLAIN EXECUTE day_rows({values})")
    plan = "\n".join(str(row[0]) for row in rows)
    await connection.exec_driver_sql("DEALLOCATE day_rows")
    return plan


async def test_day_rows_by_item_read_the_partial_track_index(
    recorded: async_sessionmaker[AsyncSession],
) -> None:
    """The kind is written into the statement: with a bound kind PostgreSQL's generic plan cannot
    use the partial index, and reading an artist's days would scan every member's rows."""
    async with recorded() as session:
        track_days = select(PlayDay.discord_user_id, PlayDay.day, PlayDay.plays, PlayDay.ms_played)
        for query in (
            track_days.where(TRACK_DAYS, PlayDay.item_id == 1),
            item_days(ItemKind.ARTIST, 1),
            item_days(ItemKind.ALBUM, 1),
        ):
            plan = await _plan(session, query)
            assert "ix_play_days_track" in plan, plan
            assert "SCAN play_days" not in plan and "Seq Scan on play_days" not in plan, plan
