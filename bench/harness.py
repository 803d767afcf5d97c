"""What the benchmarks share: a data set of linked members with fresh top lists, and the bot
run as its own process (`python -m bot run`) against the stand-ins running in the benchmark's
process, so the stand-ins' work does not count against the bot's CPU or memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import normalise_database_url
from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.db.models import CatalogItem, GuildMember, SpotifyLink, TopItem, TopSnapshot
from bot.db.vault import TokenVault
from bot.domain import ItemKind, TimeRange
from bot.store.scores import rebuild_guild_scores
from sandbox.discord import DiscordStandIn, StandInInteraction
from sandbox.population import linked_member_rows
from sandbox.spotify import SpotifySandbox

T = TypeVar("T")
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
FIRST_MEMBER_ID = 10**17
LIST_LENGTH = 50
BATCH = 100_000


@contextlib.asynccontextmanager
async def throwaway_postgres() -> AsyncIterator[str | None]:
    """A new database on the server at `ENCORE_TEST_POSTGRES_URL` (else the local one), dropped
    afterwards; None, with a line saying why, when no server answers."""
    server = normalise_database_url(
        os.environ.get("ENCORE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    )
    dsn = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        shown = make_url(server).render_as_string(hide_password=True)
        print(f"\n== postgresql: skipped, no server at {shown} ({type(exc).__name__}) ==")
        yield None
        return
    name = f"encore_bench_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def on_databases(db: str, run: Callable[[str], Awaitable[None]]) -> None:
    """`run(url)` on a new SQLite file and/or a throwaway PostgreSQL database, as `db`
    (sqlite, postgresql or both) says."""
    if db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="encore-bench-") as folder:
            await run(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
    if db in ("postgresql", "both"):
        async with throwaway_postgres() as url:
            if url is not None:
                await run(url)


async def analyze(engine: AsyncEngine) -> None:
    """Planner statistics for bulk-loaded data, as a running database has them."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql(
            "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        )


# --- data set -----------------------------------------------------------------------------


def member_ids(count: int) -> range:
    return range(FIRST_MEMBER_ID, FIRST_MEMBER_ID + count)


def catalog_rows(sandbox: SpotifySandbox, now: datetime) -> list[dict[str, Any]]:
    """The sandbox's artists and tracks; catalog ids are given so top items can point at them."""
    catalog = sandbox.catalog
    rows: list[dict[str, Any]] = []
    for artist in catalog.artists.values():
        rows.append({"kind": int(ItemKind.ARTIST), "spotify_id": artist.id, "name": artist.name})
    for track in catalog.tracks.values():
        byline = ", ".join(catalog.artists[a].name for a in track.artist_ids)
        rows.append(
            {
                "kind": int(ItemKind.TRACK),
                "spotify_id": track.id,
                "name": track.name,
                "subtitle": byline,
                "album_spotify_id": track.album_id,
            }
        )
    for item_id, row in enumerate(rows, start=1):
        row.update(
            id=item_id,
            image_url=f"{sandbox.base_url}/images/{row['spotify_id']}.png?size=300",
            updated_at=now,
        )
    return rows


TopRow = tuple[int, int, int, int, int]
"""(discord_user_id, kind, time_range, rank, item_id)"""


def top_item_rows(
    members: Sequence[int], catalog: list[dict[str, Any]], seed: int
) -> Iterator[TopRow]:
    """Six lists of 50 per member, drawn at random from the catalog."""
    rng = random.Random(seed)
    by_kind = {
        kind: [row["id"] for row in catalog if row["kind"] == int(kind)]
        for kind in (ItemKind.ARTIST, ItemKind.TRACK)
    }
    for user in members:
        for kind, ids in by_kind.items():
            for time_range in TimeRange:
                for rank, item_id in enumerate(rng.sample(ids, LIST_LENGTH), start=1):
                    yield user, int(kind), int(time_range), rank, item_id


def batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """`rows` in lists of `size` (the last one shorter)."""
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def insert_top_items(connection: AsyncConnection, rows: Iterator[TopRow]) -> None:
    """Millions of small rows: on SQLite straight to the driver, in batches, with the table's
    secondary indexes dropped meanwhile and built once at the end; elsewhere in batches."""
    if connection.dialect.name != "sqlite":
        columns = ("discord_user_id", "kind", "time_range", "rank", "item_id")
        for batch in batches(rows, BATCH // 10):
            await connection.execute(
                insert(TopItem), [dict(zip(columns, row, strict=True)) for row in batch]
            )
        return
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    cursor = await raw.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = 'top_items' AND sql IS NOT NULL"
    )
    indexes = list(await cursor.fetchall())
    for name, _ in indexes:
        await raw.execute(f'DROP INDEX "{name}"')
    sql = (
        "INSERT INTO top_items (discord_user_id, kind, time_range, rank, item_id) "
        "VALUES (?, ?, ?, ?, ?)"
    )
    for batch in batches(rows, BATCH):
        await raw.executemany(sql, batch)
    for _, create in indexes:
        await raw.execute(create)


async def build_database(
    url: str,
    members: Sequence[int],
    sandbox: SpotifySandbox,
    vault: TokenVault,
    guild_id: int,
    seed: int = 1,
) -> None:
    """Every member linked, in the guild, with six fresh top lists of 50, and the guild's
    scores built: a bot that has been running for a while."""
    await upgrade_to_head(url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    catalog = catalog_rows(sandbox, now)
    async with engine.begin() as connection:
        await connection.execute(
            insert(SpotifyLink),
            linked_member_rows(sandbox, vault, members, now=now),
        )
        await connection.execute(insert(CatalogItem), catalog)
        await connection.execute(
            insert(GuildMember),
            [{"guild_id": guild_id, "discord_user_id": user, "seen_at": now} for user in members],
        )
        await connection.execute(
            insert(TopSnapshot),
            [
                {
                    "discord_user_id": user,
                    "kind": int(kind),
                    "time_range": int(time_range),
                    "fetched_at": now,
                    "item_count": LIST_LENGTH,
                }
                for user in members
                for kind in (ItemKind.ARTIST, ItemKind.TRACK)
                for time_range in TimeRange
            ],
        )
        await insert_top_items(connection, top_item_rows(members, catalog, seed))
    async with session_scope(make_session_factory(engine), shared_writes=True) as session:
        await rebuild_guild_scores(session, guild_id)
    await engine.dispose()


# --- the bot process ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bot_environment(
    data_dir: Path,
    url: str,
    key: str,
    port: int,
    standin: DiscordStandIn,
    sandbox: SpotifySandbox,
    *,
    members_intent: bool = True,
) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "DISCORD_TOKEN": standin.token,
        "DISCORD_API_URL": standin.api_url,
        "DISCORD_GATEWAY_URL": standin.gateway_url,
        "DISCORD_MEMBERS_INTENT": "true" if members_intent else "false",
        "SPOTIFY_CLIENT_ID": "sandbox-client",
        "SPOTIFY_CLIENT_SECRET": "sandbox-secret",
        "SPOTIFY_REDIRECT_URI": f"http://127.0.0.1:{port}/callback",
        "SPOTIFY_API_URL": sandbox.api_url,
        "SPOTIFY_ACCOUNTS_URL": sandbox.accounts_url,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": url,
        "TOKEN_ENCRYPTION_KEY": key,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


def start_process(
    command: list[str], env: dict[str, str], data_dir: Path, log_name: str = "bot.log"
) -> subprocess.Popen[bytes]:
    """`command` with its output in `data_dir/log_name` (see `log_tail`)."""
    log = (data_dir / log_name).open("wb")
    return subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)


def start_bot(env: dict[str, str], data_dir: Path) -> subprocess.Popen[bytes]:
    return start_process([sys.executable, "-m", "bot", "run"], env, data_dir)


def log_tail(data_dir: Path, log_name: str = "bot.log", size: int = 3000) -> str:
    return (data_dir / log_name).read_text(errors="replace")[-size:]


async def wait_ready(process: subprocess.Popen[bytes], port: int) -> float:
    """Seconds until /healthz says the database and the gateway are fine."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the bot exited with {process.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def answered(interaction: StandInInteraction) -> bool:
    """The interaction has its first callback and a finished (not loading) message."""
    return interaction.response is not None and any(
        not message.loading and not message.deleted for message in interaction.messages
    )


class StoredLists:
    """Top lists for CommunityService when the bench stored every member's lists up front."""

    async def ensure(self, discord_user_id: int, time_range: str) -> None:
        return None


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and every process under it (an import reads in a child), MB."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {pid}, True
    while grew:
        below = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= below
        grew = bool(below)
    return sum(_own_rss_kib(member) for member in tree) / 1024


def _own_rss_kib(pid: int) -> int:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0  # ended meanwhile
    for line in lines:
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a zombie has no memory
