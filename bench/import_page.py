"""Benchmark: a ~100 MB extended-history ZIP through the real /import page, end to end, while
slash commands keep coming.

Generates the ZIP (--plays rows, sandbox/history_files.py), builds --members linked members (as
`bench/interactions.py` does), starts the Discord stand-in and the Spotify sandbox in this
process and the bot as its own process (`python -m bot run`). Then a member runs /import, the
page is opened for its form, and the ZIP is uploaded as a browser would (multipart, streamed
from disk); the status is polled until the import is done. Meanwhile bursts of --interactions
slash commands (/profile and /top artists from stored lists, dispatched over --spread s) run
back to back. Printed:

- end to end: from the upload's first byte to the status saying done (target <= 15 s), and the
  upload alone;
- resident memory of the bot: before the upload, its peak during the import, the growth
  (target <= 100 MB), sampled from /proc every 50 ms;
- first response of the slash commands during the import (target p99 <= 100 ms).

The bot stores the plays with the plays store (`bot.store.play_imports.HistoryRecorder`) in the
database: SQLite in the temporary folder, or --database.

    .venv/bin/python bench/import_page.py [--plays 400000]
    .venv/bin/python bench/import_page.py --database postgresql://user@host/empty_db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from cryptography.fernet import Fernet
from harness import (
    bot_environment,
    build_database,
    free_port,
    log_tail,
    member_ids,
    rss_mb,
    start_process,
    stop_process,
    wait_ready,
)
from interactions import UNBOUNDED_DEADLINE, fire, percentiles, settle

from bot.db.vault import TokenVault
from sandbox.discord import DiscordStandIn, StandInUser
from sandbox.history_files import write_extended_zip
from sandbox.spotify import SpotifySandbox

TARGET_SECONDS = 15.0
TARGET_GROWTH_MB = 100.0
TARGET_P99_MS = 100.0
COMMANDS = ("profile", "top artists")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Options:
    plays: int
    zip_mb: float
    members: int
    interactions: int
    spread: float
    database: str | None


def parse_args() -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=400_000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument(
        "--zip-mb",
        type=float,
        default=100,
        help="grow the ZIP to this size with an entry that is not history (the generated "
        "history deflates far better than Spotify's: 400k plays make about 22 MB)",
    )
    parser.add_argument("--interactions", type=int, default=50)
    parser.add_argument("--spread", type=float, default=0.5)
    parser.add_argument("--database", help="an empty database (default: SQLite in a temp dir)")
    args = parser.parse_args()
    return Options(
        args.plays,
        args.zip_mb,
        args.members,
        args.interactions,
        args.spread,
        args.database,
    )


def pad_to(path: Path, size: int) -> None:
    """Add an entry of random bytes that is no history file (as Spotify adds a PDF)."""
    missing = size - path.stat().st_size
    if missing <= 0:
        return
    name = "Spotify Extended Streaming History/Padding_not_history.bin"
    with zipfile.ZipFile(path, "a") as archive, archive.open(name, "w", force_zip64=True) as out:
        while missing > 0:
            chunk = min(missing, 1 << 20)
            out.write(os.urandom(chunk))
            missing -= chunk


@dataclass
class Figures:
    upload_s: float = 0.0
    total_s: float = 0.0
    rss_before: float = 0.0
    rss_peak: float = 0.0
    first_ms: list[float] | None = None
    bursts: int = 0
    status: dict[str, Any] | None = None


async def sample_rss(pid: int, figures: Figures, stop: asyncio.Event) -> None:
    while not stop.is_set():
        figures.rss_peak = max(figures.rss_peak, rss_mb(pid))
        await asyncio.sleep(0.05)


async def command_bursts(
    standin: DiscordStandIn,
    guild_id: int,
    users: list[StandInUser],
    options: Options,
    stop: asyncio.Event,
    figures: Figures,
) -> None:
    first: list[float] = []
    while not stop.is_set():
        fired = await fire(
            standin,
            guild_id,
            users,
            COMMANDS,
            options.interactions,
            figures.bursts,
            options.spread,
        )
        first += (await settle(standin, fired, patience=120)).first
        figures.bursts += 1
    figures.first_ms = first


async def upload(url: str, path: Path, figures: Figures) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(url) as page:
            found = _CSRF.search(await page.text())
        if found is None:
            raise RuntimeError("the /import page has no form")
        started = time.monotonic()
        with path.open("rb") as file:
            form = aiohttp.FormData()
            form.add_field("csrf", found.group(1))
            form.add_field("files", file, filename=path.name, content_type="application/zip")
            async with http.post(url, data=form, headers={"Accept": "application/json"}) as r:
                if r.status != 202:
                    raise RuntimeError(f"upload answered {r.status}: {(await r.text())[:300]}")
        figures.upload_s = time.monotonic() - started
        while True:
            async with http.get(f"{url}/status") as response:
                status = await response.json()
            if status["state"] in ("done", "refused", "failed"):
                break
            await asyncio.sleep(0.1)
        figures.total_s = time.monotonic() - started
        figures.status = status


async def run(options: Options, data_dir: Path, zip_path: Path) -> Figures:
    key = Fernet.generate_key().decode()
    url = options.database or f"sqlite+aiosqlite:///{data_dir / 'encore.db'}"
    port = free_port()
    figures = Figures()
    async with SpotifySandbox(users=0) as sandbox, DiscordStandIn() as standin:
        members = member_ids(options.members)
        users = [standin.add_user(member, f"member{n}") for n, member in enumerate(members)]
        guild = standin.add_guild(name="Bench", members=users)
        await build_database(url, members, sandbox, TokenVault([key]), guild.id)
        env = bot_environment(data_dir, url, key, port, standin, sandbox)
        command = [sys.executable, "-m", "bot", "run"]
        process = start_process(command, env, data_dir)
        try:
            async with asyncio.timeout(120):
                await wait_ready(process, port)
            standin.interaction_deadline = UNBOUNDED_DEADLINE
            for n in range(10):  # warm-up, untimed
                await settle(standin, await fire(standin, guild.id, users, COMMANDS, 1, n), 30)
            interaction = await standin.invoke("import", user=users[0], guild_id=guild.id)
            reply = await interaction.wait_message()
            links = [str(b["url"]) for b in reply.buttons() if b.get("url")]
            if not links:
                raise SystemExit(f"/import answered {reply.text()!r}")
            await asyncio.sleep(1)
            figures.rss_before = figures.rss_peak = rss_mb(process.pid)
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(process.pid, figures, stop))
            commands = asyncio.create_task(
                command_bursts(standin, guild.id, users, options, stop, figures)
            )
            try:
                await upload(links[0], zip_path, figures)
            finally:
                stop.set()
                await asyncio.gather(sampler, commands)
        except SystemExit:
            raise
        except BaseException:
            print(log_tail(data_dir), file=sys.stderr)
            raise
        finally:
            stop_process(process)
    return figures


def report(options: Options, zip_path: Path, figures: Figures) -> None:
    status = figures.status or {}
    growth = figures.rss_peak - figures.rss_before
    print(
        f"import             {status.get('state')}: {status.get('plays_read', 0):,} plays read, "
        f"{status.get('added', 0):,} stored"
    )
    verdict = "met" if figures.total_s <= TARGET_SECONDS else "MISSED"
    print(
        f"end to end         {figures.total_s:.1f} s (upload {figures.upload_s:.1f} s of "
        f"{zip_path.stat().st_size / 1e6:.0f} MB)   target <= {TARGET_SECONDS:g} s: {verdict}"
    )
    verdict = "met" if growth <= TARGET_GROWTH_MB else "MISSED"
    print(
        f"bot RSS            {figures.rss_before:.1f} MB before, peak {figures.rss_peak:.1f} MB, "
        f"growth {growth:.1f} MB   target <= {TARGET_GROWTH_MB:g} MB: {verdict}"
    )
    first = figures.first_ms or []
    if len(first) >= 2:
        p99 = statistics.quantiles(first, n=100, method="inclusive")[98]
        verdict = "met" if p99 <= TARGET_P99_MS else "MISSED"
        print(
            f"slash commands     {figures.bursts} bursts of {options.interactions} over "
            f"{options.spread:g} s during the import"
        )
        print(
            f"first callback     {percentiles(first)}   target p99 <= {TARGET_P99_MS:g} ms: "
            f"{verdict}"
        )


def main() -> None:
    options = parse_args()
    with tempfile.TemporaryDirectory(prefix="encore-bench-") as folder:
        data_dir = Path(folder)
        zip_path = data_dir / "my_spotify_data.zip"
        started = time.monotonic()
        written = write_extended_zip(zip_path, options.plays)
        history_mb = zip_path.stat().st_size / 1e6
        pad_to(zip_path, int(options.zip_mb * 1e6))
        print(
            f"generated          {zip_path.name}: {written.rows:,} rows ({written.counted:,} to "
            f"count), {history_mb:.1f} MB of history, {zip_path.stat().st_size / 1e6:.1f} MB in "
            f"all, in {time.monotonic() - started:.0f} s"
        )
        figures = asyncio.run(run(options, data_dir, zip_path))
        report(options, zip_path, figures)


if __name__ == "__main__":
    main()
