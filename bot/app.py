"""Builds and runs the bot: one HTTP session, one database engine, the services, the web
server (started in `setup_hook`), the cogs, and the command sync."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.db.models import BotState
from bot.db.vault import TokenVault, load_or_create_keys
from bot.interaction_edits import InteractionEditor
from bot.logs import log_context
from bot.metrics import LinkFacts, Metrics, Outcome, read_link_facts
from bot.services.container import Services
from bot.services.linking import LinkError, LinkResult, PendingLink
from bot.services.sync import SyncOutcome
from bot.ui.account import (
    LATER_NOTE,
    LOADING_NOTE,
    READY_NOTE,
    link_failed_message,
    linked_message,
)
from bot.ui.replies import reply_to_error
from bot.web.metrics import metrics_handler
from bot.web.server import WebServer, build_app

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.account",
    "cogs.library",
    "cogs.share",
    "cogs.chart",
    "cogs.community",
)


def point_discord_at(settings: Settings) -> None:
    """Send discord.py's REST and gateway traffic to the configured stand-ins, if any."""
    if settings.DISCORD_API_URL:
        discord.http.Route.BASE = settings.DISCORD_API_URL
    if settings.DISCORD_GATEWAY_URL:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.DISCORD_GATEWAY_URL)


class EncoreTree(app_commands.CommandTree["Encore"]):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        self.client.metrics.command_started(interaction)
        command = interaction.command.qualified_name if interaction.command else "?"
        log_context.set(
            f" [guild={interaction.guild_id} member={interaction.user.id} cmd={command}]"
        )
        if (
            interaction.guild_id is not None
            and interaction.type is discord.InteractionType.application_command
        ):
            await self.client.services.members.record(interaction.guild_id, [interaction.user.id])
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.client.metrics.command_finished(interaction, Outcome.ERROR)
        await reply_to_error(interaction, error)


class Encore(commands.AutoShardedBot):
    services: Services
    engine: AsyncEngine
    http_session: aiohttp.ClientSession

    def __init__(self, settings: Settings, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.members = settings.DISCORD_MEMBERS_INTENT
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=EncoreTree,
            **options,
        )
        self.settings = settings
        self.web: WebServer | None = None
        self.metrics = Metrics()
        self.run_background_sync = True
        self._sync_task: asyncio.Task[None] | None = None
        self._follow_ups: set[asyncio.Task[None]] = set()

    async def setup_hook(self) -> None:
        settings = self.settings
        self.http_session = aiohttp.ClientSession()
        await upgrade_to_head(settings.DATABASE_URL)
        self.engine = create_engine(settings.DATABASE_URL)
        sessions = make_session_factory(self.engine)
        self.sessions = sessions
        vault = TokenVault(load_or_create_keys(settings.encryption_keys, settings.DATA_DIR))
        self.services = Services.build(settings, self.http_session, sessions, vault)
        self.services.spotify.on_response = self.metrics.spotify_response
        self.services.spotify.on_cooldown = self.metrics.spotify_cooldown
        self.editor = InteractionEditor(self.http_session)
        app = build_app(
            callback_path=settings.callback_path,
            linking=self.services.linking,
            on_linked=self._on_linked,
            on_failed=self._on_link_failed,
            health=self._health,
            metrics=metrics_handler(self.metrics, self._link_facts),
        )
        self.web = WebServer(app, settings.WEB_HOST, settings.WEB_PORT)
        await self.web.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        if self.run_background_sync:
            self._sync_task = asyncio.create_task(self.services.sync.run_forever())

    async def sync_commands(self) -> None:
        """Sync to the dev guild if set, else globally; only when the command set changed."""
        guild = (
            discord.Object(self.settings.DISCORD_DEV_GUILD_ID)
            if self.settings.DISCORD_DEV_GUILD_ID
            else None
        )
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"commands:{self.application_id}:{guild.id if guild else 'global'}"
        async with session_scope(self.sessions) as session:
            state = await session.get(BotState, key)
            if state is not None and state.value == digest:
                log.info("slash commands unchanged; not syncing")
                return
        synced = await self.tree.sync(guild=guild)
        async with session_scope(self.sessions) as session:
            await session.merge(BotState(key=key, value=digest))
        log.info(
            "synced %d slash commands %s",
            len(synced),
            f"to guild {guild.id}" if guild else "globally",
        )

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guilds", self.user, len(self.guilds))

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        self.metrics.command_finished(interaction, Outcome.OK)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.services.members.remove_guild(guild.id)

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.services.members.remove(payload.guild_id, payload.user.id)

    async def _on_linked(self, result: LinkResult) -> None:
        """Confirm at once, then fetch the member's top lists and say when they are in."""
        pending = result.pending
        if pending.guild_id is not None:
            await self.services.members.record(pending.guild_id, [pending.discord_user_id])
        await self._edit_link_reply(pending, linked_message(result, LOADING_NOTE))
        task = asyncio.create_task(self._first_sync(result))
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def _first_sync(self, result: LinkResult) -> None:
        try:
            outcome = await self.services.sync.sync_member(result.pending.discord_user_id)
            note = READY_NOTE if outcome is SyncOutcome.SYNCED else LATER_NOTE
            await self._edit_link_reply(result.pending, linked_message(result, note))
        except Exception:
            log.exception("first sync after linking failed")

    async def _on_link_failed(self, pending: PendingLink, error: LinkError) -> None:
        await self._edit_link_reply(pending, link_failed_message(error.failure))

    async def _edit_link_reply(self, pending: PendingLink, payload: dict[str, Any]) -> None:
        if pending.interaction_token and pending.application_id:
            await self.editor.edit_original(
                pending.application_id, pending.interaction_token, payload
            )

    async def _link_facts(self) -> LinkFacts:
        async with self.sessions() as session:
            return await read_link_facts(session)

    async def _health(self) -> dict[str, Any]:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            db_ok = True
        except Exception:
            log.exception("health check: database unreachable")
            db_ok = False
        return {
            "db_ok": db_ok,
            "gateway_ok": self.is_ready() and not self.is_closed(),
            "latency_ms": None if math.isnan(self.latency) else round(self.latency * 1000),
            "guilds": len(self.guilds),
        }

    async def close(self) -> None:
        try:
            for task in (self._sync_task, *self._follow_ups):
                if task is not None:
                    task.cancel()
            await asyncio.gather(
                *(t for t in (self._sync_task, *self._follow_ups) if t is not None),
                return_exceptions=True,
            )
            if self.web is not None:
                await self.web.close()
            await super().close()
        finally:
            if getattr(self, "http_session", None) is not None:
                await self.http_session.close()
            if getattr(self, "engine", None) is not None:
                await self.engine.dispose()
