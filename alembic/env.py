"""Alembic environment: async engines, the same URL rules and pragmas as the bot.

The URL comes from, in order: `config.attributes["url"]` (set by bot.db.migrate), `-x url=...`
on the command line, the DATABASE_URL setting.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from bot.config import load_settings, normalise_database_url
from bot.db.engine import MIGRATION_LOCK_KEY, create_engine
from bot.db.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    return normalise_database_url(url or load_settings().DATABASE_URL)


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        tables = sorted({str(row[0]) for row in problems})
        raise RuntimeError(f"migration left rows with broken foreign keys in: {', '.join(tables)}")


def _run_migrations(connection: Connection) -> None:
    """Run every pending migration in one transaction: it all applies or nothing does.

    On SQLite the engine (`create_engine(migrating=True)`) puts DDL inside the transaction
    and keeps foreign keys off (batch mode copies and drops tables, which would cascade);
    they are checked before the commit. On PostgreSQL an advisory lock held until the commit
    makes processes starting together migrate one after the other; alembic reads the
    current revision after taking it, so the later ones find nothing left to do.
    """
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()
        if sqlite:
            _check_sqlite_foreign_keys(connection)


async def _run_online(url: str) -> None:
    engine = create_engine(url, migrating=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    url = _database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_online(_database_url()))
