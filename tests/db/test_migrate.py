import asyncio
import io
import logging
import os
import shutil
import sys
from argparse import Namespace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import column, insert, inspect, select, table, text
from sqlalchemy.engine import Connection

from bot.db.engine import create_engine
from bot.db.migrate import downgrade_to, upgrade_to_head
from bot.db.models import Base, GuildMember, MemberVisibility, UTCDateTime

ROOT = Path(__file__).resolve().parents[2]


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_gives_exactly_the_models_and_downgrade_removes_them(
    each_db_url: str,
) -> None:
    engine = create_engine(each_db_url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences), "an empty database should differ"

        await upgrade_to_head(each_db_url)
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
            assert await connection.run_sync(table_names) == {
                *Base.metadata.tables,
                "alembic_version",
            }

        await downgrade_to(each_db_url, "base")
        async with engine.connect() as connection:
            assert await connection.run_sync(table_names) == {"alembic_version"}
            assert await connection.scalar(text("SELECT count(*) FROM alembic_version")) == 0

        await upgrade_to_head(each_db_url)
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_migrating_leaves_logging_alone(db_url: str) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    bystander = logging.getLogger("bot.bystander")

    await upgrade_to_head(db_url)

    assert (root.level, list(root.handlers)) == before
    assert not bystander.disabled


async def has_tables(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return "spotify_links" in await connection.run_sync(table_names)
    finally:
        await engine.dispose()


async def test_cli_falls_back_to_the_database_url_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'setting.db'}"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"),
        cwd=tmp_path,
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    assert await has_tables(url)


def cli_config(*x_arguments: str) -> Config:
    config = Config(ROOT / "alembic.ini", cmd_opts=Namespace(x=list(x_arguments)))
    config.attributes["configure_logger"] = False
    return config


async def test_x_url_wins_over_the_database_url_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_setting = f"sqlite:///{tmp_path / 'setting.db'}"
    from_x = f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("DATABASE_URL", from_setting)

    await asyncio.to_thread(command.upgrade, cli_config(f"url={from_x}"), "head")

    assert await has_tables(from_x)
    assert not (tmp_path / "setting.db").exists()


async def test_offline_mode_prints_the_sql_without_connecting(tmp_path: Path) -> None:
    config = cli_config(f"url=sqlite:///{tmp_path / 'never.db'}")
    config.output_buffer = io.StringIO()

    await asyncio.to_thread(command.upgrade, config, "head", sql=True)

    assert "CREATE TABLE spotify_links" in config.output_buffer.getvalue()
    assert not (tmp_path / "never.db").exists()


def test_head_read_from_the_scripts_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from bot.db.migrate import alembic_config, head_revisions

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revisions() == frozenset(script.get_heads())


def test_head_revisions_follow_merges_and_annotations(tmp_path: Path) -> None:
    from bot.db.migrate import head_revisions

    scripts = {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        "c.py": 'revision = "c"\ndown_revision = "a"\n',
        "d.py": 'revision = "d"\ndown_revision = ("b", "c")\n',
        "e.py": 'revision = "e"\ndown_revision = "a"\nbranch_labels = None\n',
        "notes.txt": 'revision = "x"\n',
    }
    for name, body in scripts.items():
        (tmp_path / name).write_text(body)
    assert head_revisions(tmp_path) == {"d", "e"}


async def test_a_database_behind_head_is_upgraded(each_db_url: str) -> None:
    from bot.db.migrate import database_revisions, head_revisions, is_at_head

    assert await database_revisions(each_db_url) == frozenset()
    assert await upgrade_to_head(each_db_url) is True
    assert await database_revisions(each_db_url) == head_revisions()
    await downgrade_to(each_db_url, "0001")
    assert not await is_at_head(each_db_url)
    assert await upgrade_to_head(each_db_url) is True
    assert await is_at_head(each_db_url)
    assert await upgrade_to_head(each_db_url) is False


UPGRADE_IN_A_FRESH_PROCESS = """
import asyncio, sys
from bot.db.migrate import upgrade_to_head
applied = asyncio.run(upgrade_to_head(sys.argv[1]))
print(applied, "alembic" in sys.modules)
"""


async def upgrade_in_a_fresh_process(url: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", UPGRADE_IN_A_FRESH_PROCESS, url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()
    return output.decode().strip()


async def test_alembic_is_imported_only_when_there_is_something_to_apply(db_url: str) -> None:
    assert await upgrade_in_a_fresh_process(db_url) == "True True"
    assert await has_tables(db_url)
    assert await upgrade_in_a_fresh_process(db_url) == "False False"


HALF_DONE_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("spotify_links") as batch:
        batch.add_column(sa.Column("half_done_note", sa.Text(), nullable=True))
    {last_step}


def downgrade() -> None:
    with op.batch_alter_table("spotify_links") as batch:
        batch.drop_column("half_done_note")
    op.drop_table("half_done")
"""


def scripts_with_extra_migration(tmp_path: Path, *, fails: bool) -> Path:
    """A copy of alembic/ with one more migration on top of head, failing after its DDL."""
    from bot.db.migrate import ALEMBIC_DIR, head_revisions

    scripts = tmp_path / ("broken-scripts" if fails else "fixed-scripts")
    shutil.copytree(ALEMBIC_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (head,) = head_revisions()
    last_step = 'raise RuntimeError("migration failed halfway")' if fails else "pass"
    (scripts / "versions" / "0099_half_done.py").write_text(
        HALF_DONE_MIGRATION.format(down=head, last_step=last_step)
    )
    return scripts


def columns(connection: Connection, table: str) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns(table)}


async def test_a_migration_failing_halfway_leaves_the_old_revision_and_the_next_start_works(
    each_db_url: str, tmp_path: Path
) -> None:
    from bot.db.migrate import database_revisions, head_revisions

    await upgrade_to_head(each_db_url)

    with pytest.raises(RuntimeError, match="failed halfway"):
        await upgrade_to_head(each_db_url, scripts_with_extra_migration(tmp_path, fails=True))

    assert await database_revisions(each_db_url) == head_revisions()
    engine = create_engine(each_db_url)
    try:
        async with engine.connect() as connection:
            assert "half_done" not in await connection.run_sync(table_names)
            assert "half_done_note" not in await connection.run_sync(columns, "spotify_links")
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()
    assert await upgrade_to_head(each_db_url) is False
    fixed = scripts_with_extra_migration(tmp_path, fails=False)
    assert await upgrade_to_head(each_db_url, fixed) is True
    assert await database_revisions(each_db_url) == {"0099"}


async def test_an_upgrade_of_an_existing_sqlite_database_keeps_a_copy_from_before(
    tmp_path: Path,
) -> None:
    from bot.db.migrate import BACKUPS_KEPT

    database = tmp_path / "data" / "encore.db"
    url = f"sqlite:///{database}"
    await upgrade_to_head(url)
    assert list(database.parent.glob("*.bak")) == [], "a new database has nothing to keep"
    assert await upgrade_to_head(url) is False
    assert list(database.parent.glob("*.bak")) == [], "nothing pending, no copy"

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO bot_state (key, value) VALUES ('marker', 'before')")
            )
    finally:
        await engine.dispose()
    await downgrade_to(url, "0003")
    assert await upgrade_to_head(url) is True

    (copy,) = database.parent.glob("*.bak")
    assert copy.name.startswith("encore.db.before-0003-")
    assert copy.stat().st_mode & 0o777 == 0o600
    copied = create_engine(f"sqlite:///{copy}")
    try:
        async with copied.connect() as connection:
            assert await connection.scalar(text("SELECT version_num FROM alembic_version")) == (
                "0003"
            )
            assert await connection.scalar(
                text("SELECT value FROM bot_state WHERE key = 'marker'")
            ) == ("before")
    finally:
        await copied.dispose()

    for _ in range(BACKUPS_KEPT + 1):
        await downgrade_to(url, "0003")
        await upgrade_to_head(url)
    assert len(list(database.parent.glob("*.bak"))) == BACKUPS_KEPT


@pytest.mark.postgres
async def test_processes_starting_together_on_postgresql_migrate_one_after_the_other(
    pg_url: str,
) -> None:
    from bot.db.migrate import database_revisions, head_revisions

    processes = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, "-c", UPGRADE_IN_A_FRESH_PROCESS, pg_url),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [await process.communicate() for process in processes]

    for process, (_, errors) in zip(processes, results, strict=True):
        assert process.returncode == 0, errors.decode()
    assert await database_revisions(pg_url) == head_revisions()


async def test_0005_carries_hidden_members_over_and_back(each_db_url: str) -> None:
    members = table(
        "guild_members",
        column("guild_id"),
        column("discord_user_id"),
        column("visible"),
        column("seen_at", UTCDateTime()),
    )
    seen = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [(1, 10, True), (1, 11, False), (2, 11, True), (2, 12, False)]
    await upgrade_to_head(each_db_url)
    await downgrade_to(each_db_url, "0004")
    engine = create_engine(each_db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(members),
                [
                    {"guild_id": g, "discord_user_id": u, "visible": v, "seen_at": seen}
                    for g, u, v in rows
                ],
            )

        await upgrade_to_head(each_db_url)
        async with engine.connect() as connection:
            chosen = await connection.execute(
                select(
                    MemberVisibility.guild_id,
                    MemberVisibility.discord_user_id,
                    MemberVisibility.visible,
                    MemberVisibility.chosen_at,
                ).order_by(MemberVisibility.guild_id)
            )
            assert [tuple(row) for row in chosen] == [(1, 11, False, seen), (2, 12, False, seen)]
            kept = await connection.execute(
                select(GuildMember.guild_id, GuildMember.discord_user_id).order_by(
                    GuildMember.guild_id, GuildMember.discord_user_id
                )
            )
            assert [tuple(row) for row in kept] == [(g, u) for g, u, _ in rows]

        await downgrade_to(each_db_url, "0004")
        async with engine.connect() as connection:
            back = await connection.execute(
                select(members.c.guild_id, members.c.discord_user_id, members.c.visible).order_by(
                    members.c.guild_id, members.c.discord_user_id
                )
            )
            assert [tuple(row) for row in back] == rows
    finally:
        await engine.dispose()
