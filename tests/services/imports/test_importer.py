import asyncio
import json
import os
import signal
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import HistoryPlay
from bot.services.imports import ImportProblem, ImportRefused, SkipReason, ZipLimits
from bot.services.imports.child import NICENESS
from bot.services.imports.importer import ImportPhase, ImportProgress, import_history
from bot.services.imports.reading import ReadingFailed
from bot.services.imports.storing import store_sink
from sandbox.history_files import (
    account_rows,
    extended_rows,
    write_account_json,
    write_account_zip,
    write_extended_json,
    write_extended_zip,
)

USER = 4242


@dataclass(frozen=True)
class Result:
    added: int
    duplicates: int


class DedupingSink:
    """Stands in for the store: stores each play once per (member, start, track)."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.plays: dict[tuple[int, object, str], HistoryPlay] = {}
        self.members: set[int] = set()
        self.calls = 0
        self.fail_on_call = fail_on_call

    async def __call__(self, discord_user_id: int, plays: Sequence[HistoryPlay], /) -> Result:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise ConnectionError("database went away")
        self.members.add(discord_user_id)
        added = 0
        for play in plays:
            key = (discord_user_id, play.started_at, play.track_name)
            if key not in self.plays:
                self.plays[key] = play
                added += 1
        return Result(added, len(plays) - added)


def skipped(counts: Counter[str]) -> dict[SkipReason, int]:
    return {SkipReason(reason): count for reason, count in counts.items()}


async def test_an_extended_zip_imports_its_plays_and_says_what_it_skipped(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 3_000, seed=7, per_file=700)
    sink = DedupingSink()

    summary = await import_history(USER, written.path, sink, batch_size=500)

    assert summary.files == 6  # five audio files and the video file; the PDF is no history
    assert summary.plays_read == summary.added == written.counted == len(sink.plays)
    assert summary.duplicates == 0
    assert summary.skipped == skipped(written.skipped)
    assert set(summary.skipped) >= {SkipReason.SHORT, SkipReason.PODCAST, SkipReason.INCOGNITO}
    counted = [row for row, reason in extended_rows(3_000, seed=7) if reason is None]
    artists = Counter(row["master_metadata_album_artist_name"] for row in counted)
    assert (summary.top_artist, summary.top_artist_plays) == artists.most_common(1)[0]
    starts = sorted(play.started_at for play in sink.plays.values())
    assert (summary.first_play, summary.last_play) == (starts[0], starts[-1])
    play = next(iter(sink.plays.values()))
    assert sink.members == {USER}
    assert play.track_id is not None and len(play.track_id) == 22


async def test_an_account_data_zip_ignores_files_that_are_not_history(tmp_path: Path) -> None:
    written = write_account_zip(tmp_path / "account.zip", 1_500, seed=3, per_file=600)
    sink = DedupingSink()

    summary = await import_history(USER, written.path, sink)

    assert summary.added == written.counted
    assert summary.skipped == skipped(written.skipped)
    assert summary.skipped[SkipReason.PODCAST] == 20
    counted = [row for row, reason in account_rows(1_500, seed=3) if reason is None]
    assert {play.track_name for play in sink.plays.values()} == {
        row["trackName"] for row in counted
    }


async def test_loose_json_files_of_both_formats_import_together(tmp_path: Path) -> None:
    extended = write_extended_json(tmp_path / "Streaming_History_Audio_2020.json", 400, seed=1)
    account = write_account_json(tmp_path / "upload-2", 300, seed=2)  # content tells the format
    sink = DedupingSink()

    summary = await import_history(USER, [extended.path, account.path], sink)

    assert summary.files == 2
    assert summary.added == extended.counted + account.counted


async def test_a_tiny_chunk_size_reads_the_same_plays(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 300, seed=5, per_file=120)
    normal, tiny = DedupingSink(), DedupingSink()
    await import_history(USER, written.path, normal)
    await import_history(USER, written.path, tiny, chunk_chars=3, batch_size=7)
    assert tiny.plays == normal.plays


async def test_importing_the_same_files_twice_adds_nothing(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 1_000, seed=9)
    sink = DedupingSink()
    first = await import_history(USER, written.path, sink)
    again = await import_history(USER, written.path, sink)
    assert first.added == written.counted
    assert (again.added, again.duplicates) == (0, written.counted)


async def test_a_failure_keeps_the_stored_batches_and_a_retry_adds_exactly_the_rest(
    tmp_path: Path,
) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 2_000, seed=11)
    sink = DedupingSink(fail_on_call=3)
    with pytest.raises(ConnectionError):
        await import_history(USER, written.path, sink, batch_size=300)
    assert len(sink.plays) == 600

    retry = await import_history(USER, written.path, sink, batch_size=300)

    assert (retry.added, retry.duplicates) == (written.counted - 600, 600)
    assert len(sink.plays) == written.counted


async def test_progress_reports_the_check_then_every_stored_batch(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 1_000, seed=2, per_file=400)
    seen: list[ImportProgress] = []
    summary = await import_history(USER, written.path, DedupingSink(), seen.append, batch_size=200)

    phases = [progress.phase for progress in seen]
    assert phases[:2] == [ImportPhase.CHECKING, ImportPhase.CHECKING]
    assert set(phases[2:]) == {ImportPhase.STORING}
    assert seen[1].files_done == seen[1].files_total == 4
    assert [p.added for p in seen[2:]] == sorted(p.added for p in seen[2:])
    last = seen[-1]
    assert (last.plays_read, last.added, last.files_done) == (summary.plays_read, summary.added, 4)
    assert last.skipped == summary.skipped


def _zip(path: Path, entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


async def _refused(paths: Path | list[Path], limits: ZipLimits | None = None) -> ImportRefused:
    sink = DedupingSink()
    with pytest.raises(ImportRefused) as refused:
        await import_history(USER, paths, sink, limits=limits)
    assert sink.calls == 0, "nothing is stored for refused files"
    assert refused.value.reason and "Traceback" not in refused.value.reason
    return refused.value


async def test_a_file_that_is_neither_zip_nor_json_is_refused(tmp_path: Path) -> None:
    pdf = tmp_path / "ReadMeFirst.pdf"
    pdf.write_bytes(b"%PDF-1.4\n\xff\xfe binary")
    refusal = await _refused(pdf)
    assert refusal.problem is ImportProblem.NOT_HISTORY
    assert "ReadMeFirst.pdf" in refusal.reason and "ZIP" in refusal.reason


@pytest.mark.parametrize(
    "content",
    [json.dumps({"username": "x"}), json.dumps([{"name": "My playlist", "items": []}])],
)
async def test_json_of_another_shape_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "Userdata.json"
    path.write_text(content)
    assert (await _refused(path)).problem is ImportProblem.WRONG_SHAPE


async def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "StreamingHistory_music_0.json"
    path.write_bytes(b"")
    assert (await _refused(path)).problem is ImportProblem.EMPTY


async def test_files_holding_empty_lists_only_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "StreamingHistory_music_0.json"
    path.write_text("[]")
    assert (await _refused(path)).problem is ImportProblem.EMPTY


async def test_a_truncated_json_file_stores_nothing(tmp_path: Path) -> None:
    written = write_extended_json(tmp_path / "Streaming_History_Audio_2020.json", 500)
    data = written.path.read_bytes()
    written.path.write_bytes(data[: len(data) * 9 // 10])
    assert (await _refused(written.path)).problem is ImportProblem.TRUNCATED


async def test_a_truncated_zip_is_refused(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 500)
    data = written.path.read_bytes()
    written.path.write_bytes(data[: len(data) // 2])
    refusal = await _refused(written.path)
    assert refusal.problem is ImportProblem.TRUNCATED
    assert "my_spotify_data.zip" in refusal.reason


async def test_a_zip_whose_data_fails_its_crc_stores_nothing(tmp_path: Path) -> None:
    rows = [row for row, _ in extended_rows(300)]
    body = json.dumps(rows, indent=4).encode()
    path = _zip(tmp_path / "h.zip", {"Streaming_History_Audio_0.json": body}, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.index(b'"ms_played"', len(data) // 2)
    data[at + 1 : at + 3] = b"MS"  # still valid JSON: only the CRC can tell
    path.write_bytes(bytes(data))
    assert (await _refused(path)).problem is ImportProblem.DAMAGED


async def test_a_zip_without_history_files_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "other.zip", {"Userdata.json": b"{}", "Playlist1.json": b"{}"})
    assert (await _refused(path)).problem is ImportProblem.NO_HISTORY_FILES


async def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = b"[" + b" " * (4 << 20) + b"]"
    path = _zip(tmp_path / "bomb.zip", {"Streaming_History_Audio_0.json": bomb})
    refusal = await _refused(path)
    assert refusal.problem is ImportProblem.TOO_LARGE
    assert "ZIP bomb" in refusal.reason


async def test_a_zip_with_too_many_entries_is_refused(tmp_path: Path) -> None:
    entries = {f"Streaming_History_Audio_{n}.json": b"[]" for n in range(6)}
    path = _zip(tmp_path / "many.zip", entries)
    assert (await _refused(path, ZipLimits(max_entries=5))).problem is ImportProblem.TOO_LARGE


async def test_a_zip_past_the_uncompressed_total_is_refused(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 400, per_file=200)
    limits = ZipLimits(max_total_bytes=100_000)
    assert (await _refused(written.path, limits)).problem is ImportProblem.TOO_LARGE


async def test_zip_paths_are_never_used_as_file_names(tmp_path: Path) -> None:
    rows = json.dumps([row for row, _ in extended_rows(50)]).encode()
    path = _zip(tmp_path / "h.zip", {"../../escape/Streaming_History_Audio_0.json": rows})
    before = set(tmp_path.parent.rglob("*"))
    summary = await import_history(USER, path, DedupingSink())
    assert summary.plays_read > 0
    assert set(tmp_path.parent.rglob("*")) == before


async def test_the_event_loop_keeps_running_while_a_file_is_read(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 3_000)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await import_history(USER, written.path, DedupingSink(), batch_size=5_000)
    ticker.cancel()
    # one batch holds every play: without the worker thread the loop would not turn meanwhile
    assert ticks > 10


async def test_store_sink_commits_each_batch_on_its_own(
    db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with db_sessions() as session:
        await session.execute(text("CREATE TABLE stored (track TEXT)"))
        await session.commit()

    calls = 0

    async def record(session: AsyncSession, user: int, plays: Sequence[HistoryPlay]) -> Result:
        nonlocal calls
        calls += 1
        for play in plays:
            await session.execute(text("INSERT INTO stored VALUES (:t)"), {"t": play.track_name})
        if calls == 2:
            raise ConnectionError("lost mid-batch")
        return Result(len(plays), 0)

    written = write_extended_zip(tmp_path / "h.zip", 200)
    with pytest.raises(ConnectionError):
        await import_history(USER, written.path, store_sink(db_sessions, record), batch_size=50)
    async with db_sessions() as session:
        stored = (await session.execute(text("SELECT count(*) FROM stored"))).scalar_one()
    assert stored == 50  # the first batch committed, the failing one rolled back


async def test_the_next_batch_is_read_while_one_is_stored(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 1_000, seed=4)
    read: list[int] = []
    read_on = asyncio.Event()

    def follow(progress: ImportProgress) -> None:
        read.append(progress.plays_read)
        if progress.plays_read >= 200:
            read_on.set()

    sink = DedupingSink()

    async def storing_waits_for_the_reader(user: int, plays: Sequence[HistoryPlay], /) -> Result:
        if sink.calls == 0:
            await asyncio.wait_for(read_on.wait(), 10)  # "reading waited for storing"
        return await sink(user, plays)

    summary = await import_history(
        USER, written.path, storing_waits_for_the_reader, follow, batch_size=100
    )
    assert summary.added == written.counted
    assert read[-1] == summary.plays_read


async def test_a_reading_process_that_dies_fails_the_import_and_keeps_what_was_stored(
    tmp_path: Path,
) -> None:
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 20_000, seed=4)  # > a pipe
    sink = DedupingSink()

    async def kill_the_reader_on_the_second_batch(
        user: int, plays: Sequence[HistoryPlay], /
    ) -> Result:
        if sink.calls == 1:
            for child in _children():
                os.kill(child, signal.SIGKILL)
        return await sink(user, plays)

    with pytest.raises(ReadingFailed):
        await import_history(
            USER, written.path, kill_the_reader_on_the_second_batch, batch_size=100
        )
    assert 100 <= len(sink.plays) < written.counted
    assert _children() == []


async def test_a_cancelled_import_stops_its_reading_process(tmp_path: Path) -> None:
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 1_000, seed=4)
    storing = asyncio.Event()

    async def stalls(user: int, plays: Sequence[HistoryPlay], /) -> Result:
        storing.set()
        await asyncio.sleep(3600)
        raise AssertionError("not reached")

    task = asyncio.create_task(import_history(USER, written.path, stalls, batch_size=100))
    await asyncio.wait_for(storing.wait(), 10)
    (child,) = _children()
    assert _niceness(child) == _niceness(os.getpid()) + NICENESS  # the bot goes first
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _children() == []


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _children() -> list[int]:
    """This process's child processes that are still alive (Linux /proc)."""
    me = os.getpid()
    found = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(status.parent.name))
    return found
