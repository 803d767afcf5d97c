import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import (
    SQLITE_POOL,
    create_engine,
    is_retryable_conflict,
    lock_shared_writes,
    ping,
    session_scope,
)
from bot.db.models import BotState, CatalogItem
from bot.services.items import ItemSummary
from bot.store.snapshots import upsert_catalog
from tests.helpers.community import artist


async def test_sqlite_connections_get_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db_file = tmp_path / "not" / "yet" / "there.db"
    engine = create_engine(f"sqlite:///{db_file}")
    try:
        async with engine.connect() as connection:
            journal_mode = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
            busy_timeout = await connection.scalar(text("PRAGMA busy_timeout"))
    finally:
        await engine.dispose()
    assert engine.dialect.driver == "aiosqlite"
    assert db_file.parent.is_dir()
    assert journal_mode == "wal"
    assert foreign_keys == 1
    assert busy_timeout > 0


async def test_the_data_folder_and_the_sqlite_files_are_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        db_file = tmp_path / "data" / "encore.db"
        engine = create_engine(f"sqlite:///{db_file}")
        try:
            async with engine.begin() as connection:
                await connection.execute(text("CREATE TABLE t (x INTEGER)"))
                await connection.execute(text("INSERT INTO t VALUES (1)"))
                created = sorted(p.name for p in db_file.parent.iterdir())
                modes = {p.name: p.stat().st_mode & 0o777 for p in db_file.parent.iterdir()}
        finally:
            await engine.dispose()
    finally:
        os.umask(previous)
    assert db_file.parent.stat().st_mode & 0o777 == 0o700
    assert created == ["encore.db", "encore.db-shm", "encore.db-wal"]
    assert modes == dict.fromkeys(created, 0o600)


async def test_an_existing_data_folder_keeps_its_permissions(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    engine = create_engine(f"sqlite:///{folder / 'encore.db'}")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert folder.stat().st_mode & 0o777 == 0o750


async def test_postgres_urls_use_asyncpg_with_a_bounded_pool() -> None:
    engine = create_engine("postgres://encore@db.invalid/encore")
    try:
        assert engine.dialect.driver == "asyncpg"
        assert engine.pool.size() > 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_session_scope_commits_on_success(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(each_db_sessions) as session:
        state = BotState(key="commands_hash", value="abc")
        session.add(state)
    assert state.value == "abc"

    async with each_db_sessions() as session:
        assert await session.scalar(select(BotState.value)) == "abc"


async def test_session_scope_rolls_back_and_reraises(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(LookupError):
        async with session_scope(each_db_sessions) as session:
            session.add(BotState(key="commands_hash", value="abc"))
            await session.flush()
            raise LookupError

    async with each_db_sessions() as session:
        assert await session.scalar(select(BotState.value)) is None


async def test_sqlite_files_get_a_small_pool_without_overflow(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    try:
        assert engine.pool.size() == SQLITE_POOL["pool_size"]  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_in_memory_sqlite_keeps_its_single_connection() -> None:
    engine = create_engine("sqlite://")
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_writers_of_shared_rows_take_turns_instead_of_deadlocking(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Two units upsert the same catalog rows in opposite orders. Without the shared-writes
    lock PostgreSQL aborts one with a deadlock; with it the second waits for the first."""
    now = datetime.now(UTC)
    a, b = artist(1), artist(2)
    first_wrote = asyncio.Event()

    async def write(first: ItemSummary, second: ItemSummary, pause: float) -> None:
        async with session_scope(each_db_sessions) as session:
            await upsert_catalog(session, [first], now)
            first_wrote.set()
            await asyncio.sleep(pause)
            await upsert_catalog(session, [second], now)

    one = asyncio.create_task(write(a, b, pause=0.3))
    await first_wrote.wait()
    await write(b, a, pause=0)
    await one

    async with each_db_sessions() as session:
        stored = set(await session.scalars(select(CatalogItem.spotify_id)))
    assert stored == {a.id, b.id}


async def test_the_shared_writes_lock_is_taken_once_per_transaction(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    statements: list[str] = []
    engine = each_db_sessions.kw["bind"]

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with session_scope(each_db_sessions, shared_writes=True) as session:
            await lock_shared_writes(session)
        async with each_db_sessions() as session:
            for _ in range(2):
                await lock_shared_writes(session)
                await lock_shared_writes(session)
                await session.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    locks = [s for s in statements if "pg_advisory_xact_lock" in s]
    expected = 3 if engine.dialect.name == "postgresql" else 0
    assert len(locks) == expected


async def test_ping_answers_when_the_database_does(db_engine: AsyncEngine) -> None:
    await ping(db_engine)


async def test_ping_raises_when_the_database_does_not_answer() -> None:
    engine = create_engine("postgresql://encore@127.0.0.1:9/encore")  # discard port: refused
    try:
        with pytest.raises(OSError):
            await ping(engine)
    finally:
        await engine.dispose()


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (DBAPIError("UPDATE", {}, _DriverError("40P01")), True),
        (DBAPIError("UPDATE", {}, _DriverError("40001")), True),
        (IntegrityError("INSERT", {}, _DriverError("23505")), False),
        (DBAPIError("UPDATE", {}, Exception("database is locked")), False),
        (_DriverError("40P01"), False),
    ],
)
def test_only_deadlocks_and_serialization_failures_are_retryable(
    error: BaseException, retryable: bool
) -> None:
    assert is_retryable_conflict(error) is retryable


async def test_writers_wait_for_their_turn_without_holding_a_connection(tmp_path: Path) -> None:
    """On SQLite a writer waiting for the database's one write lock would hold a pooled
    connection: five of them behind a long write would leave none for reads."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    long_write_started, finish_long_write = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def long_write() -> None:
        async with session_scope(sessions) as session:
            await session.execute(text("CREATE TABLE t (n INTEGER)"))
            long_write_started.set()
            await finish_long_write.wait()
        order.append("long")

    async def short_write(n: int) -> None:
        async with session_scope(sessions) as session:
            await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        order.append(f"short {n}")

    try:
        first = asyncio.create_task(long_write())
        await long_write_started.wait()
        waiting = [asyncio.create_task(short_write(n)) for n in range(SQLITE_POOL["pool_size"])]
        await asyncio.sleep(0.05)
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        async with sessions() as session:  # a read still gets a connection at once
            assert await session.scalar(text("SELECT 1")) == 1
        async with session_scope(sessions, mostly_reads=True) as session:
            assert await session.scalar(text("SELECT 2")) == 2
        assert order == []
        finish_long_write.set()
        await asyncio.gather(first, *waiting)
        assert order == ["long", *(f"short {n}" for n in range(SQLITE_POOL["pool_size"]))]
        async with sessions() as session:
            assert await session.scalar(text("SELECT count(*) FROM t")) == 5
    finally:
        await engine.dispose()


async def test_on_postgresql_only_shared_writers_take_turns(
    each_db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    engine = each_db_sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers all take turns (the test above)")
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold(shared: bool) -> None:
        async with session_scope(each_db_sessions, shared_writes=shared):
            holding.set()
            await release.wait()

    first = asyncio.create_task(hold(shared=True))
    await holding.wait()
    async with session_scope(each_db_sessions) as session:  # not kept waiting
        assert await session.scalar(text("SELECT 1")) == 1
    second = asyncio.create_task(hold(shared=True))
    await asyncio.sleep(0.05)
    assert engine.pool.checkedout() == 1  # the second shared writer waits without one
    release.set()
    await asyncio.gather(first, second)
