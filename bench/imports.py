"""Benchmark: reading a large extended streaming-history ZIP with the import engine.

Generates an extended-history ZIP of --plays rows (sandbox/history_files.py, 15,000 rows a file
as Spotify splits them) in a temporary folder, then times, in this process:

- one reading pass (rows decoded and parsed into `HistoryPlay` batches), plays/s;
- `import_history` end to end into a sink that stores nothing (both passes, worker threads,
  batches of 5,000), plays/s;

- `import_history` into the real plays store (`HistoryRecorder`, as the bot's /import stores) on
  a fresh, migrated SQLite file: the issue's figure, plays parsed and stored per second;

and the growth of resident memory (VmHWM, the peak, against VmRSS before) over each, with the
CPU seconds of the process (every thread, SQLite's included): on a shared machine the wall
clock says more about the load than about the import.

    .venv/bin/python bench/imports.py [--plays 400000] [--seed 0] [--only stored]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.db.engine import create_engine, make_session_factory
from bot.db.migrate import upgrade_to_head
from bot.domain import HistoryPlay
from bot.services.imports.importer import import_history
from bot.services.imports.reader import HistoryReader
from bot.services.imports.storing import store_sink
from bot.store.play_imports import HistoryRecorder
from sandbox.history_files import write_extended_zip

TARGET_PLAYS_PER_SECOND = 50_000
TARGET_GROWTH_MB = 100.0


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    """Make VmHWM start again from the current RSS (Linux: write 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


@dataclass
class _NullResult:
    added: int
    duplicates: int


async def _null_sink(discord_user_id: int, plays: Sequence[HistoryPlay], /) -> _NullResult:
    return _NullResult(added=len(plays), duplicates=0)


def _measure(label: str, run: Callable[[], int]) -> float:
    _reset_peak()
    before = _status_kib("VmRSS")
    start, cpu_start = time.perf_counter(), time.process_time()
    counted = run()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    growth_mb = (_status_kib("VmHWM") - before) / 1024
    rate = counted / seconds if seconds else 0.0
    print(
        f"{label:<34} {counted:>9,} plays in {seconds:6.2f} s = {rate:>9,.0f} plays/s "
        f"({cpu:.2f} CPU-s, all threads); peak RSS growth {growth_mb:6.1f} MB "
        f"(target <= {TARGET_GROWTH_MB:.0f})",
        flush=True,
    )
    return rate


def _unpacked_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--only", choices=("read", "stored"), help="run only the reading or the stored figures"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "my_spotify_data.zip"
        start = time.perf_counter()
        written = write_extended_zip(path, args.plays, seed=args.seed)
        print(
            f"generated {path.name}: {written.rows:,} rows ({written.counted:,} to count), "
            f"{path.stat().st_size / 1e6:.1f} MB zipped, "
            f"{_unpacked_bytes(path) / 1e6:.1f} MB of JSON, in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        database = Path(folder) / "encore.db"
        url = f"sqlite+aiosqlite:///{database}"
        asyncio.run(upgrade_to_head(url))

        def one_pass() -> int:
            reader = HistoryReader([path])
            return sum(len(batch) for batch in reader.batches(5_000))

        def end_to_end() -> int:
            summary = asyncio.run(import_history(1, path, _null_sink))
            return summary.added

        async def into_store() -> int:
            engine = create_engine(url)
            try:
                sink = store_sink(make_session_factory(engine), HistoryRecorder().record)
                return (await import_history(1, path, sink)).added
            finally:
                await engine.dispose()

        if args.only != "stored":
            _measure("one reading pass (HistoryPlay batches)", one_pass)
            _measure("import_history, null sink", end_to_end)
        if args.only != "read":
            rate = _measure("import_history, SQLite store", lambda: asyncio.run(into_store()))
            verdict = "met" if rate >= TARGET_PLAYS_PER_SECOND else "MISSED"
            print(
                f"stored on SQLite: {rate:,.0f} plays/s, target >= "
                f"{TARGET_PLAYS_PER_SECOND:,}: {verdict} "
                f"({database.stat().st_size / 1e6:.0f} MB database)"
            )


if __name__ == "__main__":
    main()
