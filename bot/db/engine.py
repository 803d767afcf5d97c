"""Engines and sessions for SQLite (the default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from bot.config import normalise_database_url
from bot.db.files import make_owner_only, make_private_dir

Engine: TypeAlias = AsyncEngine
Session: TypeAlias = AsyncSession
Sessions: TypeAlias = async_sessionmaker[AsyncSession]
"""What services and the runtime type their engine and session factory with, so that only the
data layer (bot/db, bot/store) imports SQLAlchemy."""

SQLITE_BUSY_TIMEOUT_SECONDS = 30
SQLITE_POOL = {"pool_size": 5, "max_overflow": 0, "pool_timeout": 30}
"""Each aiosqlite connection is a thread with its own SQLite page cache (up to 2 MB), and SQLite
writes one at a time anyway: five connections, never more. Nothing holds a session while it
opens another, so a task waiting for a connection always gets one when another finishes."""
POSTGRES_POOL = {
    "pool_size": 10,
    "max_overflow": 10,
    "pool_timeout": 30,
    "pool_recycle": 1800,
    "pool_pre_ping": True,
}


def _on_sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _on_migration_connect(dbapi_connection: Any, _record: object) -> None:
    """Take transaction control away from the sqlite3 driver (SQLAlchemy's documented
    "emit BEGIN yourself" recipe): in its legacy mode DDL runs outside any transaction, so
    a migration failing halfway would leave its tables without the version bump. Foreign
    keys stay off for the migration (batch mode copies and drops tables, which would
    cascade); PRAGMA foreign_keys is ignored inside a transaction, so it is set here."""
    _on_sqlite_connect(dbapi_connection, _record)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=OFF")
    finally:
        cursor.close()


def _on_migration_begin(connection: Any) -> None:
    """IMMEDIATE takes the write lock first (waiting up to the busy timeout), so processes
    starting together migrate one after the other instead of failing on a stale snapshot."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _protect_sqlite_files(database: Path) -> None:
    """Tokens are encrypted, but the rest (who listens to what) is personal: the database
    file and its WAL/shared-memory files are made owner-only as soon as SQLite creates them."""
    for suffix in SQLITE_COMPANIONS:
        make_owner_only(database.with_name(database.name + suffix))


def sqlite_file(database: str) -> Path | None:
    """The file behind a SQLite URL's database part; None in memory or for `file:` URIs."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def create_engine(url: str, *, migrating: bool = False) -> AsyncEngine:
    """An async engine for `url` (plain `sqlite://` / `postgresql://` spellings accepted).

    SQLite gets WAL (readers do not block the writer), foreign keys and a busy timeout on every
    connection, a pool of at most `SQLITE_POOL` connections; the folder of its file is created
    owner-only and the files owner-only. `migrating` gives an engine whose transactions
    include DDL on SQLite (see `_on_migration_connect`). PostgreSQL goes through asyncpg with a
    bounded pool that drops stale connections.
    """
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        file = sqlite_file(database)
        if file is not None:
            make_private_dir(file.parent)
        in_memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
        pool = {} if in_memory else SQLITE_POOL  # an in-memory database has one connection
        engine = _create_async_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, **pool
        )
        on_connect = _on_migration_connect if migrating else _on_sqlite_connect
        if file is not None:
            event.listen(engine.sync_engine, "connect", _protecting(on_connect, file))
        else:
            event.listen(engine.sync_engine, "connect", on_connect)
        if migrating:
            event.listen(engine.sync_engine, "begin", _on_migration_begin)
        return engine
    return _create_async_engine(
        parsed,
        connect_args={"server_settings": {"application_name": "encore"}},
        **POSTGRES_POOL,
    )


def _protecting(
    on_connect: Callable[[Any, object], None], file: Path
) -> Callable[[Any, object], None]:
    def connect(dbapi_connection: Any, record: object) -> None:
        on_connect(dbapi_connection, record)  # journal_mode=WAL creates -wal and -shm
        _protect_sqlite_files(file)

    return connect


def upsert_insert(session: AsyncSession) -> Callable[..., Any]:
    """`insert` of the session's dialect, the one with `on_conflict_do_update` (PostgreSQL's or
    SQLite's). Imported when first needed: a bot on SQLite never loads SQLAlchemy's PostgreSQL
    dialect (about 2 MB resident)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def make_session_factory(engine: AsyncEngine) -> Sessions:
    """Sessions that keep loaded objects usable after commit (no implicit async lazy loads)."""
    return async_sessionmaker(engine, expire_on_commit=False)


SHARED_WRITES_LOCK_KEY = 0x656E636F7265  # "encore"
MIGRATION_LOCK_KEY = 0x656E636F7265_01
"""PostgreSQL advisory lock held while migrations run (alembic/env.py)."""
_SHARED_WRITES_HELD = "encore.shared_writes_held"


async def lock_shared_writes(session: AsyncSession) -> None:
    """Hold, until the transaction ends, the lock every writer of shared rows takes first.

    The catalog and the guild scores are rows that every member's lists touch, in orders no
    two transactions agree on, so on PostgreSQL concurrent writers (the background sync of two
    processes, a /top refresh, a member leaving) would deadlock on them. One transaction-scoped
    advisory lock makes those writes take turns; they are short, and Spotify's rate limit keeps
    them far fewer than the database could serve. Taken once per transaction (repeat calls are
    free); a transaction that also writes per-member rows takes it before them (see
    `session_scope(shared_writes=True)`). SQLite has a single writer already: nothing to do.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    held = session.info.get(_SHARED_WRITES_HELD)
    current = session.sync_session.get_transaction()
    if current is not None and held is not None and held() is current:
        return
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": SHARED_WRITES_LOCK_KEY}
    )
    session.info[_SHARED_WRITES_HELD] = weakref.ref(session.sync_session.get_transaction())


@asynccontextmanager
async def session_scope(
    factory: Sessions, *, shared_writes: bool = False, mostly_reads: bool = False
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block succeeds, roll back when it raises.

    `shared_writes` takes `lock_shared_writes` before anything else, for a unit that writes
    catalog or score rows besides rows of its own member. Writers of this process take turns
    before they take a connection (`_writers_turn`): shared writers on every database, and
    every unit on SQLite except a `mostly_reads` one (a read that writes once in a while,
    which would otherwise wait for every writer before it).
    """
    turn = shared_writes or (not mostly_reads and _dialect(factory) == "sqlite")
    async with _writers_turn(factory) if turn else contextlib.nullcontext(), factory() as session:
        try:
            if shared_writes:
                await lock_shared_writes(session)
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


_WRITERS: weakref.WeakKeyDictionary[Sessions, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _writers_turn(factory: Sessions) -> asyncio.Lock:
    """The lock the writers of this process take in turn, one per session factory.

    They would take turns anyway, on the database's lock (SQLite has one writer; shared
    writers take `lock_shared_writes`), but waiting there each would hold a pooled connection,
    and a few writers waiting behind a long one (a batch of an import) would leave none for
    the reads that answer members' commands."""
    loop = asyncio.get_running_loop()
    held = _WRITERS.get(factory)
    if held is None or held[0] is not loop:
        held = _WRITERS[factory] = (loop, asyncio.Lock())
    return held[1]


def _dialect(factory: Sessions) -> str | None:
    bind = factory.kw.get("bind")
    return bind.dialect.name if bind is not None else None


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query (the health check)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure


def is_retryable_conflict(exc: BaseException) -> bool:
    """True for a PostgreSQL deadlock or serialization failure: the transaction may simply be
    run again."""
    return isinstance(exc, DBAPIError) and (
        getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )
