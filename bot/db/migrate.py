"""Apply alembic migrations from inside the bot.

Alembic (with mako and pygments) costs about 12 MB of resident memory once imported, for the
life of the process. Most starts find the database already at the newest revision, so
`upgrade_to_head` first compares the database's `alembic_version` with the head revision read
from the scripts in alembic/versions (parsed, not imported) and imports alembic only when there
is something to apply.

Alembic's commands are synchronous and our env.py runs its own event loop, so each command
runs in a worker thread: callers may already be inside an event loop. Logging configuration
is left alone (no alembic.ini is read).
"""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.db.engine import create_engine

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"
VERSIONS_DIR = ALEMBIC_DIR / "versions"
VERSION_TABLE = "alembic_version"


def alembic_config(url: str) -> Config:
    """An alembic Config for `url` that does not touch logging."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
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


async def is_at_head(url: str) -> bool:
    heads = head_revisions()
    return bool(heads) and await database_revisions(url) == heads


async def upgrade_to_head(url: str) -> bool:
    """Bring the database at `url` to the newest schema (creating it when empty); returns
    whether anything had to be applied. Alembic is imported only in that case."""
    if await is_at_head(url):
        return False
    from alembic import command

    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    return True


async def downgrade_to(url: str, revision: str) -> None:
    """Step the database at `url` back to `revision` ("base" removes every table)."""
    from alembic import command

    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)
