"""What every Encore process holds: one HTTP session, one database engine, the services, the
web server with its OAuth hooks, and the background loops (top-list sync, recently-played
polling, enrichment).

The bot process (`python -m bot`) owns one and adds the Discord gateway on top; a web-only
process (`python -m bot web`) runs one alone. Nothing here needs a gateway connection: the
/link reply is edited with a plain REST call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from bot.config import Settings
from bot.db.engine import Engine, Sessions, create_engine, make_session_factory, ping
from bot.db.keycheck import check_key_fingerprints
from bot.db.migrate import upgrade_to_head
from bot.db.vault import TokenVault, load_or_create_keys
from bot.interaction_edits import InteractionEditor
from bot.metrics import Metrics
from bot.services.container import Services, web_origin
from bot.services.import_jobs import ImportJob
from bot.services.linking import LinkError, LinkResult, PendingLink
from bot.store.links import LinkFacts, read_link_facts
from bot.ui.account import link_failed_message, linked_message
from bot.ui.imports import import_finished_message, import_started_message
from bot.web.metrics import metrics_handler
from bot.web.server import WebServer, build_app

log = logging.getLogger(__name__)

SYNC_STOP_GRACE = 10.0
ExtraHealth = Callable[[], Mapping[str, Any]]


class Runtime:
    http: aiohttp.ClientSession
    engine: Engine
    sessions: Sessions
    services: Services

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.web: WebServer | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._listening_tasks: list[asyncio.Task[None]] = []
        self._linked_task: asyncio.Task[None] | None = None
        self._hidden_task: asyncio.Task[None] | None = None
        self._presence_task: asyncio.Task[None] | None = None
        self._follow_ups: set[asyncio.Future[object]] = set()

    async def start(self) -> None:
        """Open the session and the database (migrated to head) and build the services.

        Raises `KeyMismatch` when the encryption keys cannot read the database's tokens.
        """
        settings = self.settings
        self.http = aiohttp.ClientSession()
        await upgrade_to_head(settings.DATABASE_URL)
        self.engine = create_engine(settings.DATABASE_URL)
        self.sessions = make_session_factory(self.engine)
        keys = load_or_create_keys(settings.encryption_keys, settings.DATA_DIR)
        await check_key_fingerprints(self.sessions, keys)
        vault = TokenVault(keys)
        self.services = Services.build(settings, self.http, self.sessions, vault)
        self.services.spotify.on_response = self.metrics.spotify_response
        self.services.spotify.on_cooldown = self.metrics.spotify_cooldown
        await self.services.limits.start(hold=self.services.spotify.hold_cooldown)
        self._editor = InteractionEditor(self.http)
        imports = self.services.imports
        imports.on_started = self._on_import_started
        imports.on_finished = self._on_import_finished
        await self.services.recording.refresh()
        linked = self.services.accounts.linked
        await linked.load()
        self._linked_task = asyncio.create_task(linked.keep_current())
        hidden = self.services.members.hidden
        await hidden.load()
        self._hidden_task = asyncio.create_task(hidden.keep_current())

    async def start_web(self, extra_health: ExtraHealth) -> None:
        app = build_app(
            callback_path=self.settings.callback_path,
            linking=self.services.linking,
            on_linked=self._on_linked,
            on_failed=self._on_link_failed,
            health=lambda: self._health(extra_health),
            metrics=metrics_handler(self.metrics, self._link_facts),
            metrics_token=self.settings.metrics_token,
            imports=self.services.imports,
            import_max_bytes=self.settings.IMPORT_MAX_BYTES,
            public_origin=web_origin(self.settings),
            spotify_accounts_url=self.settings.SPOTIFY_ACCOUNTS_URL,
            secure_cookies=self.settings.SPOTIFY_REDIRECT_URI.startswith("https:"),
        )
        self.services.imports.remove_leftovers()
        self.web = WebServer(
            app,
            self.settings.WEB_HOST,
            self.settings.WEB_PORT,
            keepalive_timeout=self.settings.WEB_KEEPALIVE_SECONDS,
            request_timeout=self.settings.WEB_REQUEST_TIMEOUT_SECONDS,
        )
        await self.web.start()

    def start_sync(self) -> None:
        """Start the background loops: the top-list sync, recently-played polling,
        enrichment of tracks seen without their artists' IDs and the play boards' daily
        rollover."""
        self._sync_task = asyncio.create_task(self.services.sync.run_forever())
        self._listening_tasks = [
            asyncio.create_task(self.services.recent.run_forever()),
            asyncio.create_task(self.services.enrichment.run_forever()),
            asyncio.create_task(self.services.plays.roll_forever()),
        ]

    def start_presence(self) -> None:
        """Write plays heard through presence in the background (see PresenceTracker)."""
        self._presence_task = asyncio.create_task(self.services.presence.run())

    def spawn(self, work: Awaitable[object]) -> None:
        """Run `work` in the background; it is cancelled at shutdown."""
        task = asyncio.ensure_future(work)
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def _on_linked(self, result: LinkResult) -> None:
        """Confirm at once, then fetch the member's top lists and say when they are in."""
        pending = result.pending
        if pending.guild_id is not None:
            await self.services.members.record(pending.guild_id, [pending.discord_user_id])
        await self._edit_link_reply(pending, linked_message(result, None))
        self.spawn(self._first_sync(result))

    async def _first_sync(self, result: LinkResult) -> None:
        try:
            outcome = await self.services.sync.sync_member(result.pending.discord_user_id)
            await self._edit_link_reply(result.pending, linked_message(result, outcome))
        except Exception:
            log.exception("first sync after linking failed")

    async def _on_link_failed(self, pending: PendingLink, error: LinkError) -> None:
        await self._edit_link_reply(pending, link_failed_message(error.failure))

    async def _edit_link_reply(self, pending: PendingLink, payload: dict[str, Any]) -> None:
        if pending.interaction_token and pending.application_id:
            await self._editor.edit_original(
                pending.application_id, pending.interaction_token, payload
            )

    async def _on_import_started(self, job: ImportJob) -> None:
        await self._edit_import_reply(job, import_started_message())

    async def _on_import_finished(self, job: ImportJob) -> None:
        await self._edit_import_reply(job, import_finished_message(job))

    async def _edit_import_reply(self, job: ImportJob, payload: dict[str, Any]) -> None:
        ticket = job.ticket
        if ticket.interaction_token and ticket.application_id:
            await self._editor.edit_original(
                ticket.application_id, ticket.interaction_token, payload
            )

    async def _link_facts(self) -> LinkFacts:
        async with self.sessions() as session:
            return await read_link_facts(session)

    async def _health(self, extra: ExtraHealth) -> dict[str, Any]:
        try:
            await ping(self.engine)
            db_ok = True
        except Exception:
            log.exception("health check: database unreachable")
            db_ok = False
        return {"db_ok": db_ok, **extra()}

    async def close(self) -> None:
        if self._sync_task is not None:
            self.services.sync.stop()
            self.services.recent.stop()
            self.services.enrichment.stop()
            self.services.plays.stop()
            await asyncio.wait({self._sync_task, *self._listening_tasks}, timeout=SYNC_STOP_GRACE)
        if self._linked_task is not None:
            self.services.accounts.linked.stop()
            await asyncio.wait({self._linked_task}, timeout=SYNC_STOP_GRACE)
        if self._hidden_task is not None:
            self.services.members.hidden.stop()
            await asyncio.wait({self._hidden_task}, timeout=SYNC_STOP_GRACE)
        if getattr(self, "services", None) is not None:
            try:
                await self.services.presence.close()
            except Exception:
                log.exception("could not write the last presence plays")
        tasks = [
            t
            for t in (
                self._sync_task,
                self._linked_task,
                self._hidden_task,
                self._presence_task,
                *self._listening_tasks,
                *self._follow_ups,
            )
            if t is not None
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if getattr(self, "services", None) is not None:
            await self.services.imports.close()
            await self.services.members.drain()
            await self.services.limits.close()
        if self.web is not None:
            await self.web.close()
        if getattr(self, "http", None) is not None:
            await self.http.close()
        if getattr(self, "engine", None) is not None:
            await self.engine.dispose()
