"""Import links and jobs: one link per member, expiry and single use, the per-member and per-process
limits, the recording switch, and upload files deleted whatever happens."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import ImportLink
from bot.db.vault import TokenVault
from bot.domain import HistoryPlay, RecordingOff
from bot.services.import_jobs import (
    BusyReason,
    ImportBusy,
    ImportJobs,
    JobState,
)
from bot.services.import_links import (
    LINK_LIFETIME,
    ImportLinkError,
    ImportLinks,
    LinkProblem,
    hash_token,
)
from bot.services.imports import ImportProblem, ZipLimits
from bot.services.imports.importer import PlaySink
from bot.services.imports.storing import store_sink
from bot.store.play_imports import HistoryRecorder
from sandbox.history_files import write_account_json, write_extended_zip
from tests.helpers.plays import StoreGate, stored_plays

MEMBER, OTHER = 1001, 1002


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_sessions: async_sessionmaker[AsyncSession]) -> PlaySink:
    """The real plays store."""
    return store_sink(db_sessions, HistoryRecorder().record)


@pytest.fixture
def links(db_sessions: async_sessionmaker[AsyncSession], clock: Clock) -> ImportLinks:
    vault = TokenVault([Fernet.generate_key().decode()])
    return ImportLinks(db_sessions, vault, base_url="https://encore.example", clock=clock)


def make_jobs(
    links: ImportLinks,
    folder: Path,
    store: PlaySink,
    *,
    concurrency: int = 2,
    records: bool = True,
) -> ImportJobs:
    async def may_record(discord_user_id: int) -> bool:
        return records

    return ImportJobs(
        links,
        store,
        folder=folder,
        concurrency=concurrency,
        limits=ZipLimits(),
        may_record=may_record,
    )


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def new_link(jobs: ImportJobs, member: int = MEMBER) -> str:
    url = await jobs.start_link(
        member, "alice", guild_id=None, application_id=7, interaction_token="itoken"
    )
    return token_of(url)


async def test_a_link_is_stored_hashed_with_the_interaction_token_encrypted(
    links: ImportLinks, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    url = await links.create(
        MEMBER, "alice", guild_id=5, application_id=7, interaction_token="itoken"
    )
    assert url.startswith("https://encore.example/import/")
    token = token_of(url)
    async with db_sessions() as session:
        row = (await session.scalars(select(ImportLink))).one()
    assert row.token_hash == hash_token(token) != token
    assert row.interaction_token_enc is not None and b"itoken" not in row.interaction_token_enc
    ticket = await links.open(token)
    assert (ticket.discord_user_id, ticket.member_name, ticket.guild_id) == (MEMBER, "alice", 5)
    assert (ticket.application_id, ticket.interaction_token) == (7, "itoken")


async def test_a_new_link_replaces_the_members_earlier_one_only(links: ImportLinks) -> None:
    first = token_of(
        await links.create(MEMBER, "a", guild_id=None, application_id=None, interaction_token=None)
    )
    other = token_of(
        await links.create(OTHER, "b", guild_id=None, application_id=None, interaction_token=None)
    )
    second = token_of(
        await links.create(MEMBER, "a", guild_id=None, application_id=None, interaction_token=None)
    )
    with pytest.raises(ImportLinkError) as refused:
        await links.open(first)
    assert refused.value.problem is LinkProblem.UNKNOWN
    assert (await links.open(second)).discord_user_id == MEMBER
    assert (await links.open(other)).discord_user_id == OTHER


async def test_a_link_expires_after_30_minutes_and_works_once(
    links: ImportLinks, clock: Clock
) -> None:
    token = token_of(
        await links.create(MEMBER, "a", guild_id=None, application_id=None, interaction_token=None)
    )
    clock.now += LINK_LIFETIME - timedelta(seconds=1)
    ticket = await links.open(token)
    await links.mark_used(ticket)
    with pytest.raises(ImportLinkError) as used:
        await links.open(token)
    assert used.value.problem is LinkProblem.USED

    fresh = token_of(
        await links.create(MEMBER, "a", guild_id=None, application_id=None, interaction_token=None)
    )
    clock.now += LINK_LIFETIME
    with pytest.raises(ImportLinkError) as expired:
        await links.open(fresh)
    assert expired.value.problem is LinkProblem.EXPIRED
    for junk in ("", "x" * 500, "forged"):
        with pytest.raises(ImportLinkError):
            await links.open(junk)


async def test_an_import_stores_plays_marks_the_link_used_and_deletes_its_files(
    links: ImportLinks,
    store: PlaySink,
    db_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    jobs = make_jobs(links, tmp_path / "imports", store)
    finished: list[JobState] = []

    async def on_finished(job: object) -> None:
        finished.append(job.state)  # type: ignore[attr-defined]

    jobs.on_finished = on_finished
    token = await new_link(jobs)
    job = jobs.reserve(await links.open(token))
    written = write_extended_zip(job.folder / "my_spotify_data.zip", 500, seed=1)
    jobs.start(job, [written.path])
    await asyncio.wait_for(job.wait(), 20)

    assert job.state is JobState.DONE and finished == [JobState.DONE]
    assert job.summary is not None and job.summary.added == written.counted
    assert await stored_plays(db_sessions, MEMBER) == written.counted
    assert not job.folder.exists()
    assert jobs.job_for(token) is job, "the page can still show the summary"
    with pytest.raises(ImportLinkError):
        await links.open(token)


async def test_refused_files_keep_the_link_and_are_deleted_too(
    links: ImportLinks,
    store: PlaySink,
    db_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    jobs = make_jobs(links, tmp_path / "imports", store)
    token = await new_link(jobs)
    job = jobs.reserve(await links.open(token))
    bad = job.folder / "notes.json"
    bad.write_text('{"not": "a history"}')
    jobs.start(job, [bad])
    await asyncio.wait_for(job.wait(), 20)
    assert job.state is JobState.REFUSED
    assert job.refusal is not None and job.refusal.problem is ImportProblem.WRONG_SHAPE
    assert not job.folder.exists()
    assert await stored_plays(db_sessions, MEMBER) == 0
    assert (await links.open(token)).discord_user_id == MEMBER


async def test_a_failing_store_ends_the_job_as_failed_and_deletes_the_files(
    links: ImportLinks, tmp_path: Path
) -> None:
    class Broken:
        async def __call__(self, discord_user_id: int, plays: Sequence[HistoryPlay], /) -> object:
            raise ConnectionError("database went away")

    async def may_record(discord_user_id: int) -> bool:
        return True

    jobs = ImportJobs(
        links,
        Broken(),
        folder=tmp_path / "imports",
        concurrency=1,
        limits=ZipLimits(),
        may_record=may_record,
    )
    token = await new_link(jobs)
    job = jobs.reserve(await links.open(token))
    written = write_account_json(job.folder / "StreamingHistory_music_0.json", 50)
    jobs.start(job, [written.path])
    await asyncio.wait_for(job.wait(), 20)
    assert job.state is JobState.FAILED
    assert not job.folder.exists()
    assert (await links.open(token)).discord_user_id == MEMBER, "the link still works"


async def test_one_import_per_member_and_at_most_concurrency_per_process(
    links: ImportLinks, store: PlaySink, tmp_path: Path
) -> None:
    jobs = make_jobs(links, tmp_path / "imports", store, concurrency=2)
    first = jobs.reserve(await links.open(await new_link(jobs, MEMBER)))
    with pytest.raises(ImportBusy) as member_busy:
        jobs.reserve(await links.open(await new_link(jobs, MEMBER)))
    assert member_busy.value.reason is BusyReason.MEMBER
    jobs.reserve(await links.open(await new_link(jobs, OTHER)))
    with pytest.raises(ImportBusy) as process_busy:
        jobs.reserve(await links.open(await new_link(jobs, 1003)))
    assert process_busy.value.reason is BusyReason.PROCESS

    jobs.release(first)
    assert not first.folder.exists()
    jobs.reserve(await links.open(await new_link(jobs, 1003)))


async def test_cancelled_imports_delete_their_files(
    links: ImportLinks, db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    gate = StoreGate()
    gate.close()
    sink = gate.wrap(store_sink(db_sessions, HistoryRecorder().record))
    jobs = make_jobs(links, tmp_path / "imports", sink)
    job = jobs.reserve(await links.open(await new_link(jobs)))
    written = write_extended_zip(job.folder / "h.zip", 300, seed=2)
    jobs.start(job, [written.path])
    await asyncio.wait_for(gate.reached.wait(), 20)
    await jobs.close()
    assert job.state is JobState.FAILED
    assert not job.folder.exists()


async def test_recording_switched_off_is_refused(
    links: ImportLinks, store: PlaySink, tmp_path: Path
) -> None:
    with pytest.raises(RecordingOff):
        await new_link(make_jobs(links, tmp_path, store, records=False))


def test_leftovers_of_a_stopped_process_are_removed_but_recent_folders_kept(
    links: ImportLinks, store: PlaySink, tmp_path: Path
) -> None:
    folder = tmp_path / "imports"
    old, recent = folder / "old", folder / "recent"
    for path in (old, recent):
        (path / "0").mkdir(parents=True)
        (path / "0" / "h.zip").write_bytes(b"PK")
    hours_ago = time.time() - 3 * 3600
    for path in (old, old / "0", old / "0" / "h.zip"):
        os.utime(path, (hours_ago, hours_ago))
    make_jobs(links, folder, store).remove_leftovers()
    assert not old.exists()
    assert recent.exists()
