"""Apply alembic migrations from inside the bot.

Alembic (with mako and pygments) costs about 12 MB of resident memory once imported, for the
life of the process. Most starts find the database already at the newest revision, so
`upgrade_to_head` first compares the database's `alembic_version` with the head revision read
from the scripts in alembic/versions (parsed, not imported) and imports alembic only when there
is something to apply.

Alembic's commands are synchronous and our env.py runs its own event loop, so each command
runs in a worker thread: callers may already be inside an event loop. Logging configuration
is left alone (no alembic.ini is read).

What makes an upgrade safe to attempt at every start (see alembic/env.py for the first two):
- every pending migration runs in one transaction, DDL included, on SQLite as on PostgreSQL:
  a failure leaves the database at its old revision, and the next start tries again;
- concurrent starts take turns (an advisory lock on PostgreSQL, SQLite's write lock);
- before upgrading an existing SQLite database, a copy of it is kept in its folder
  (`<file>.before-<revision>-<UTC time>.bak`, the newest `BACKUPS_KEPT`).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from bot.config import normalise_database_url
from bot.db.engine import create_engine, sqlite_file
from bot.db.files import OWNER_ONLY_FILE

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"
VERSIONS_DIR = ALEMBIC_DIR / "versions"
VERSION_TABLE = "alembic_version"
BACKUPS_KEPT = 3

log = logging.getLogger(__name__)

_alembic_turn = threading.Lock()
"""Alembic's `context` is one module-level proxy: two commands in threads of one process
would overwrite each other's."""


def alembic_config(url: str, scripts: Path = ALEMBIC_DIR) -> Config:
    """An alembic Config for `url` that does not touch logging."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


def _module_constants(path: Path) -> dict[str, object]:
    """The top-level `name = <literal>` assignments of a migration script."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    found[target.id] = ast.literal_eval(value)
                except ValueError:
                    continue
    return found


def head_revisions(versions_dir: Path = VERSIONS_DIR) -> frozenset[str]:
    """The revisions no other script revises, from the scripts' `revision` and
    `down_revision` literals, without importing alembic or the scripts."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions_dir.glob("*.py"):
        constants = _module_constants(path)
        revision = constants.get("revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        down = constants.get("down_revision")
        if isinstance(down, str):
            revised.add(down)
        elif isinstance(down, list | tuple):
            revised.update(d for d in down if isinstance(d, str))
    return frozenset(revisions - revised)


def _database_revisions(connection: Connection) -> frozenset[str]:
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return frozenset(str(row[0]) for row in rows)


async def database_revisions(url: str) -> frozenset[str]:
    """The revisions recorded in the database's alembic_version (none for a new database)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_database_revisions)
    finally:
        await engine.dispose()


async def is_at_head(url: str, scripts: Path = ALEMBIC_DIR) -> bool:
    heads = head_revisions(scripts / "versions")
    return bool(heads) and await database_revisions(url) == heads


def _database_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL and in-memory databases."""
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.query.get("mode") == "memory":
        return None
    return sqlite_file(parsed.database or "")


def backup_sqlite(database: Path, revisions: frozenset[str], keep: int = BACKUPS_KEPT) -> Path:
    """Copy `database` (consistently, through SQLite's backup API: the WAL may hold the
    latest writes) next to it, owner-only, and delete all but the newest `keep` copies."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    revision = "+".join(sorted(revisions)) or "base"
    target = database.with_name(f"{database.name}.before-{revision}-{stamp}.bak")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE)
    os.close(fd)
    source = sqlite3.connect(database)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    older = sorted(database.parent.glob(f"{database.name}.before-*.bak"), key=_backup_time)
    for stale in older[: max(len(older) - keep, 0)]:
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    return target


def _backup_time(path: Path) -> str:
    return path.name.removesuffix(".bak").rsplit("-", 1)[-1]


def _upgrade(url: str, scripts: Path) -> None:
    from alembic import command

    with _alembic_turn:
        command.upgrade(alembic_config(url, scripts), "head")


async def upgrade_to_head(url: str, scripts: Path = ALEMBIC_DIR) -> bool:
    """Bring the database at `url` to the newest schema (creating it when empty); returns
    whether anything had to be applied. Alembic is imported only in that case."""
    if await is_at_head(url, scripts):
        return False
    database = _database_file(url)
    if database is not None and database.exists():
        revisions = await database_revisions(url)
        if revisions:
            copy = await asyncio.to_thread(backup_sqlite, database, revisions)
            log.info("upgrading the database schema; a copy from before is in %s", copy)
    await asyncio.to_thread(_upgrade, url, scripts)
    return True


async def downgrade_to(url: str, revision: str) -> None:
    """Step the database at `url` back to `revision` ("base" removes every table)."""
    from alembic import command

    def downgrade() -> None:
        with _alembic_turn:
            command.downgrade(alembic_config(url), revision)

    await asyncio.to_thread(downgrade)
