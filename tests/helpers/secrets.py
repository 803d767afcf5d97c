"""Looks for every secret the sandbox handed out in the database and in the logs."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Base


class LogCollector(logging.Handler):
    """Every record of every logger, formatted with its traceback, for the whole test."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def database_text(sessions: async_sessionmaker[AsyncSession], db_url: str) -> str:
    """Every row of every table, plus the raw SQLite files when the database is one."""
    parts: list[str] = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                parts.append(repr(tuple(row)))
    if db_url.startswith("sqlite"):
        path = Path(db_url.split("///", 1)[1])
        for candidate in (path, path.with_name(path.name + "-wal")):
            if candidate.exists():
                parts.append(candidate.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def leaks(secrets: list[str], **places: str) -> list[str]:
    return [
        f"{secret[:6]}… found in {where}"
        for secret in secrets
        for where, text in places.items()
        if secret in text
    ]
