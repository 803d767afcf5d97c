"""Apply alembic migrations from inside the bot.

Alembic's commands are synchronous and our env.py runs its own event loop, so each command
runs in a worker thread: callers may already be inside an event loop. Logging configuration
is left alone (no alembic.ini is read).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"


def alembic_config(url: str) -> Config:
    """An alembic Config for `url` that does not touch logging."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


async def upgrade_to_head(url: str) -> None:
    """Bring the database at `url` to the newest schema (creating it when empty)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def downgrade_to(url: str, revision: str) -> None:
    """Step the database at `url` back to `revision` ("base" removes every table)."""
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)
