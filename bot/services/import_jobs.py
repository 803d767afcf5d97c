"""The /import use case: links, uploads waiting in temporary folders, and imports running in
the background with their progress.

A member has at most one import at a time, and a process at most `concurrency` (uploads
included, since an upload fills the disk). Jobs live in this process's memory: the upload page
polls the process that took the upload. A finished job is kept for the link's lifetime so the
page can still show its summary; its files are deleted as soon as it ends, whatever happened.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.domain import RecordingOff, ServiceError
from bot.services.import_links import (
    LINK_LIFETIME,
    ImportLinks,
    ImportTicket,
    hash_token,
    utcnow,
)
from bot.services.imports import ImportRefused, ZipLimits
from bot.services.imports.importer import (
    ImportPhase,
    ImportProgress,
    ImportSummary,
    PlaySink,
    import_history,
)

log = logging.getLogger(__name__)

LEFTOVER_AGE = timedelta(hours=2)

RecordingCheck = Callable[[int], Awaitable[bool]]
JobHook = Callable[["ImportJob"], Awaitable[None]]


class JobState(enum.Enum):
    UPLOADING = "uploading"
    CHECKING = "checking"
    STORING = "storing"
    DONE = "done"
    REFUSED = "refused"  # the files are not a Spotify history; the link stays usable
    FAILED = "failed"  # our side failed; the link stays usable

    @property
    def active(self) -> bool:
        return self in _ACTIVE

    @property
    def over(self) -> bool:
        return not self.active


_ACTIVE = frozenset({JobState.UPLOADING, JobState.CHECKING, JobState.STORING})
_PHASES = {ImportPhase.CHECKING: JobState.CHECKING, ImportPhase.STORING: JobState.STORING}


class BusyReason(enum.Enum):
    MEMBER = "member"  # this member's other import is still running
    PROCESS = "process"  # the process runs as many imports as it may


class ImportBusy(ServiceError):
    def __init__(self, reason: BusyReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(eq=False)
class ImportJob:
    """One upload and its import; the web page reads it while it runs."""

    ticket: ImportTicket
    folder: Path
    state: JobState = JobState.UPLOADING
    progress: ImportProgress | None = None
    summary: ImportSummary | None = None
    refusal: ImportRefused | None = None
    finished_at: datetime | None = None
    _checked: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    async def checked(self) -> None:
        """Wait until the files passed the check (nothing is refused after that but a row
        broken inside an intact-looking file) or the job ended."""
        await self._checked.wait()

    async def wait(self) -> None:
        await self._done.wait()

    def _follow(self, progress: ImportProgress) -> None:
        self.progress = progress
        self.state = _PHASES[progress.phase]
        if progress.files_total and progress.files_done == progress.files_total:
            self._checked.set()  # the check pass reports once more when every file passed

    def _end(self, state: JobState) -> None:
        self.state = state
        self.finished_at = utcnow()
        self._checked.set()
        self._done.set()


class ImportJobs:
    def __init__(
        self,
        links: ImportLinks,
        sink: PlaySink,
        *,
        folder: Path,
        concurrency: int,
        limits: ZipLimits,
        may_record: RecordingCheck,
    ) -> None:
        self.links = links
        self._sink = sink
        self._folder = folder
        self._concurrency = concurrency
        self._limits = limits
        self._may_record = may_record
        self._jobs: dict[str, ImportJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_started: JobHook | None = None
        self.on_finished: JobHook | None = None

    async def start_link(
        self,
        discord_user_id: int,
        member_name: str,
        *,
        guild_id: int | None,
        application_id: int | None,
        interaction_token: str | None,
    ) -> str:
        """A fresh upload link for the member (the earlier one stops working)."""
        await self.check_recording(discord_user_id)
        return await self.links.create(
            discord_user_id,
            member_name,
            guild_id=guild_id,
            application_id=application_id,
            interaction_token=interaction_token,
        )

    async def check_recording(self, discord_user_id: int) -> None:
        if not await self._may_record(discord_user_id):
            raise RecordingOff()

    def job_for(self, token: str) -> ImportJob | None:
        return self._jobs.get(hash_token(token))

    def reserve(self, ticket: ImportTicket) -> ImportJob:
        """A job in the uploading state, with an empty folder for the upload; ImportBusy when
        the member or the process already runs as many imports as allowed."""
        self._forget_old()
        active = [job for job in self._jobs.values() if job.state.active]
        if any(job.ticket.discord_user_id == ticket.discord_user_id for job in active):
            raise ImportBusy(BusyReason.MEMBER)
        if len(active) >= self._concurrency:
            raise ImportBusy(BusyReason.PROCESS)
        folder = self._folder / secrets.token_hex(12)
        folder.mkdir(parents=True)
        job = ImportJob(ticket, folder)
        self._jobs[ticket.token_hash] = job
        return job

    def release(self, job: ImportJob) -> None:
        """The upload did not arrive whole: drop the job and its files."""
        shutil.rmtree(job.folder, ignore_errors=True)
        if self._jobs.get(job.ticket.token_hash) is job:
            del self._jobs[job.ticket.token_hash]

    def start(self, job: ImportJob, paths: Sequence[Path]) -> None:
        """Import the uploaded files in the background."""
        task = asyncio.create_task(self._run(job, list(paths)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: ImportJob, paths: list[Path]) -> None:
        member = job.ticket.discord_user_id
        try:
            job.state = JobState.CHECKING
            await self._tell(self.on_started, job)
            summary = await import_history(
                member, paths, self._sink, job._follow, limits=self._limits
            )
            await self.links.mark_used(job.ticket)
        except ImportRefused as refused:
            log.info("import for member %s refused: %s", member, refused.problem.value)
            job.refusal = refused
            job._end(JobState.REFUSED)
        except asyncio.CancelledError:
            job._end(JobState.FAILED)
            raise
        except Exception:
            log.exception("import for member %s failed", member)
            job._end(JobState.FAILED)
        else:
            log.info(
                "import for member %s: %d plays read, %d added",
                member,
                summary.plays_read,
                summary.added,
            )
            job.summary = summary
            job._end(JobState.DONE)
        finally:
            shutil.rmtree(job.folder, ignore_errors=True)
        await self._tell(self.on_finished, job)

    async def _tell(self, hook: JobHook | None, job: ImportJob) -> None:
        """Discord is told on the side: the import goes on whether or not that works."""
        if hook is None:
            return
        try:
            await hook(job)
        except Exception:
            log.exception("the /import reply could not be updated")

    def _forget_old(self) -> None:
        cutoff = utcnow() - LINK_LIFETIME
        for key, job in list(self._jobs.items()):
            if job.finished_at is not None and job.finished_at < cutoff:
                del self._jobs[key]

    def remove_leftovers(self) -> None:
        """Delete upload folders a stopped process left behind. Another process of the
        deployment may share the data folder, so only folders untouched for a while go."""
        if not self._folder.is_dir():
            return
        cutoff = time.time() - LEFTOVER_AGE.total_seconds()
        for child in self._folder.iterdir():
            if _last_change(child) < cutoff:
                shutil.rmtree(child, ignore_errors=True)

    async def close(self) -> None:
        """Stop running imports; their files are deleted as they stop."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _last_change(path: Path) -> float:
    try:
        return max([path.stat().st_mtime, *(p.stat().st_mtime for p in path.rglob("*"))])
    except OSError:
        return 0.0
