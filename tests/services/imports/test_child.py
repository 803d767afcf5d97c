import io
import subprocess
import sys
from pathlib import Path

import msgspec

from bot.services.imports import ImportProblem, ZipLimits
from bot.services.imports.child import LENGTH, Frame, Request, framed, serve
from bot.services.imports.reader import HistoryReader
from sandbox.history_files import write_extended_zip


def _request(paths: list[Path], batch_size: int = 100) -> io.BytesIO:
    limits = ZipLimits()
    request = Request(
        paths=[str(path) for path in paths],
        batch_size=batch_size,
        chunk_chars=1 << 16,
        max_entries=limits.max_entries,
        max_total_bytes=limits.max_total_bytes,
        max_ratio=limits.max_ratio,
    )
    return io.BytesIO(framed(msgspec.msgpack.encode(request)))


def _frames(data: bytes) -> list[Frame]:
    frames, at = [], 0
    while at < len(data):
        (length,) = LENGTH.unpack_from(data, at)
        at += LENGTH.size
        frames.append(msgspec.msgpack.decode(data[at : at + length], type=Frame))
        at += length
    return frames


def test_the_child_sends_the_check_then_every_play_in_batches_then_the_totals(
    tmp_path: Path,
) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 1_000, seed=3, per_file=400)
    out = io.BytesIO()
    serve(_request([written.path]), out)
    frames = _frames(out.getvalue())

    checked, *batches, last = frames
    assert checked.counts is not None and not checked.plays and not checked.last
    assert checked.counts.files_done == checked.counts.files_total == 4  # 3 of plays, 1 video
    assert all(len(frame.plays) == 100 for frame in batches[:-1])
    plays = [play for frame in batches for play in frame.plays]
    assert plays == list(HistoryReader([written.path]).row_plays())
    assert len(plays) == written.counted
    assert last.last and last.counts is not None
    assert last.counts.plays == written.counted
    assert last.counts.top_artist is not None


def test_files_that_are_not_a_history_come_back_as_a_refusal(tmp_path: Path) -> None:
    path = tmp_path / "Userdata.json"
    path.write_text('{"username": "x"}')
    out = io.BytesIO()
    serve(_request([path]), out)
    (frame,) = _frames(out.getvalue())
    assert frame.refused is not None
    problem, reason = frame.refused
    assert ImportProblem(problem) is ImportProblem.WRONG_SHAPE
    assert "Userdata.json" in reason


def test_the_child_imports_neither_asyncio_nor_the_database() -> None:
    """What keeps the reading child small (about 17 MB resident)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.services.imports.child; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "bot.services.imports.child" in loaded
    assert not [m for m in loaded if m == "asyncio" or m.startswith(("sqlalchemy", "discord"))]
