"""The bot: a `Runtime` (HTTP session, database, services, web server, sync) started in
`setup_hook`, the cogs, the command sync, and the gateway events Encore listens to."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.db.engine import Sessions, session_scope
from bot.domain import SpotifyActivity
from bot.gateway import share_the_loop
from bot.metrics import Metrics, Outcome
from bot.process.logs import bind_context
from bot.runtime import Runtime
from bot.services.access import Asked, Subject
from bot.services.container import Services
from bot.services.member_limits import Action
from bot.store.bot_state import get_value, set_value
from bot.ui.replies import defer, reply_to_error

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.account",
    "cogs.library",
    "cogs.share",
    "cogs.chart",
    "cogs.community",
    "cogs.imports",
    "cogs.listening",
    "cogs.wrapped",
)


def point_discord_at(settings: Settings) -> None:
    """Send discord.py's REST and gateway traffic to the configured stand-ins, if any."""
    if settings.DISCORD_API_URL:
        discord.http.Route.BASE = settings.DISCORD_API_URL
    if settings.DISCORD_GATEWAY_URL:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.DISCORD_GATEWAY_URL)


def spotify_activity(member: discord.Member) -> SpotifyActivity | None:
    """The member's Spotify activity as the domain value the presence tracker keeps."""
    for activity in member.activities:
        if isinstance(activity, discord.Spotify):
            try:
                start, end = activity.start, activity.end
            except KeyError:  # an activity without both timestamps cannot be judged
                return None
            return SpotifyActivity(
                track_id=activity.track_id,
                title=activity.title,
                artists=tuple(activity.artists),
                album=activity.album or None,
                cover_url=activity.album_cover_url or None,
                start_ms=round(start.timestamp() * 1000),
                end_ms=round(end.timestamp() * 1000),
            )
    return None


def _asked(
    interaction: discord.Interaction, member: discord.User | discord.Member | None
) -> Asked | None:
    """Another member a command names, as Discord resolved them in the interaction."""
    if member is None:
        return None
    in_guild = interaction.guild_id is not None and isinstance(member, discord.Member)
    return Asked(member.id, member.display_name, in_guild)


class EncoreTree(app_commands.CommandTree["Encore"]):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        self.client.metrics.command_started(interaction)
        command = interaction.command.qualified_name if interaction.command else "?"
        bind_context(interaction.guild_id, interaction.user.id, command)
        if (
            interaction.guild_id is not None
            and interaction.type is discord.InteractionType.application_command
        ):
            self.client.services.members.note_seen(interaction.guild_id, interaction.user.id)
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        expected = await reply_to_error(interaction, error)
        outcome = Outcome.REFUSED if expected else Outcome.ERROR
        self.client.metrics.command_finished(interaction, outcome)


class Encore(commands.AutoShardedBot):
    """The Discord side of a process; everything else lives in its `Runtime`."""

    runtime: Runtime

    def __init__(self, settings: Settings, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.members = settings.DISCORD_MEMBERS_INTENT or settings.DISCORD_PRESENCE_INTENT
        intents.presences = settings.DISCORD_PRESENCE_INTENT
        if settings.SHARD_COUNT is not None:
            options.setdefault("shard_count", settings.SHARD_COUNT)
            options.setdefault("shard_ids", settings.SHARD_IDS)
        # Encore never reads messages (slash commands, buttons and DynamicItems arrive as
        # interactions), so the cache of the last 1,000 messages would only cost memory.
        options.setdefault("max_messages", None)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=EncoreTree,
            **options,
        )
        share_the_loop()
        self.settings = settings
        self.metrics = Metrics()
        self.run_background_sync = True

    @property
    def services(self) -> Services:
        return self.runtime.services

    @property
    def sessions(self) -> Sessions:
        return self.runtime.sessions

    async def subject(
        self,
        interaction: discord.Interaction,
        member: discord.User | discord.Member | None = None,
        *,
        spotify: bool = True,
        invoker_linked: bool = False,
    ) -> Subject:
        """Whose data a command shows (`member`, else the invoker), checked once against the
        access rule (bot/services/access.py); call it before deferring so refusals stay private
        (or use `subject_and_defer`). `spotify`: the command reads the subject's Spotify
        account; `invoker_linked`: the invoker's too."""
        return await self.services.access.check(
            guild_id=interaction.guild_id,
            invoker_id=interaction.user.id,
            asked=_asked(interaction, member),
            spotify=spotify,
            invoker_linked=invoker_linked,
        )

    def cleared(
        self,
        interaction: discord.Interaction,
        member: discord.User | discord.Member | None = None,
        *,
        spotify: bool = True,
    ) -> bool:
        """Whether memory already lets the command show `member` (else the invoker): it may
        defer before reading anything, `subject_and_defer` then checking the rule."""
        return self.services.access.cleared(
            guild_id=interaction.guild_id,
            invoker_id=interaction.user.id,
            asked=_asked(interaction, member),
            spotify=spotify,
        )

    async def subject_and_defer(
        self,
        interaction: discord.Interaction,
        member: discord.User | discord.Member | None = None,
        *,
        private: bool,
        spotify: bool = True,
        invoker_linked: bool = False,
        action: Action | None = None,
    ) -> Subject:
        """`subject`, then the defer, with Discord answered as early as the rule allows.

        When memory already clears the subject (`AccessService.cleared`: the usual case), the
        defer goes out first and the database part of the rule is checked after it; a refusal
        then replaces the thinking reply with a private message (`send_private`). Otherwise
        the database decides first, so a refusal is the first answer, and private. `action`
        is counted in the invoker's limits before the defer and given back on such a refusal.
        A command that deferred already (after `cleared`) is not deferred again.
        """
        services = self.services
        deferred = interaction.response.is_done()
        asked = _asked(interaction, member)
        rule: dict[str, Any] = {
            "guild_id": interaction.guild_id,
            "invoker_id": interaction.user.id,
            "asked": asked,
            "spotify": spotify,
            "invoker_linked": invoker_linked,
        }
        if not services.access.cleared(**rule):
            subject = await services.access.check(**rule)
            if action is not None:
                services.member_limits.take(interaction.user.id, action)
            if not deferred:
                await defer(interaction, private=private)
            return subject
        if action is not None:
            services.member_limits.take(interaction.user.id, action)
        if not deferred:
            await defer(interaction, private=private)
        try:
            return await services.access.check(**rule)
        except Exception:
            if action is not None:
                services.member_limits.give_back(interaction.user.id, action)
            raise

    async def setup_hook(self) -> None:
        self.runtime = Runtime(self.settings, self.metrics)
        await self.runtime.start()
        await self.runtime.start_web(self._gateway_health)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        if self.run_background_sync:
            self.runtime.start_sync()
        if self.intents.presences:
            self.runtime.start_presence()

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
        async with self.sessions() as session:
            synced_digest = await get_value(session, key)
        if synced_digest == digest:
            log.info("slash commands unchanged; not syncing")
            return
        synced = await self.tree.sync(guild=guild)
        async with session_scope(self.sessions) as session:
            await set_value(session, key, digest)
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

    async def on_guild_available(self, guild: discord.Guild) -> None:
        """With the members intent, linked members in the member cache count as seen here
        (recorded in the background, so a big guild does not hold up the gateway)."""
        if self.intents.members:
            members = [m.id for m in guild.members if not m.bot]
            self.runtime.spawn(self.services.members.record_linked(guild.id, members))
        if self.intents.presences:
            for member in guild.members:
                activity = spotify_activity(member)
                if activity is not None and not member.bot:
                    self._listening(guild.id, member.id, activity)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """Presence updates are handled right here, synchronously: at thousands a second, a
        task for each (what an `on_presence_update` listener costs) would crowd the loop."""
        if event_name == "presence_update":
            self._presence_changed(args[1])
        super().dispatch(event_name, *args, **kwargs)

    def _presence_changed(self, after: discord.Member) -> None:
        if after.bot:
            return
        try:
            self._listening(after.guild.id, after.id, spotify_activity(after))
        except Exception:  # raised here it would stop the gateway reader
            log.exception("handling a presence update failed")

    def _listening(self, guild_id: int, user_id: int, activity: SpotifyActivity | None) -> None:
        """Feed the presence tracker; a listener in a recording guild counts as a member there
        (rankings by plays and /nowplaying's "members who know" read stored memberships)."""
        services = self.services
        services.presence.update(guild_id, user_id, activity)
        if activity is not None and services.recording.guild_records(guild_id):
            services.members.note_seen(guild_id, user_id)

    async def on_member_join(self, member: discord.Member) -> None:
        if not member.bot:
            await self.services.members.record(member.guild.id, [member.id])

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.services.members.remove_guild(guild.id)

    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.services.members.remove(payload.guild_id, payload.user.id)

    def _gateway_health(self) -> dict[str, Any]:
        return {
            "gateway_ok": self.is_ready() and not self.is_closed(),
            "latency_ms": None if math.isnan(self.latency) else round(self.latency * 1000),
            "guilds": len(self.guilds),
        }

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if getattr(self, "runtime", None) is not None:
                await self.runtime.close()
