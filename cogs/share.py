"""/share: post an item to the channel with a Save / Follow button any linked member can press."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.domain import InvalidInput
from bot.process.logs import bind_context
from bot.services.member_limits import Action
from bot.services.shares import SHARE_KINDS
from bot.spotify.ids import SpotifyKind, SpotifyRef, looks_like_spotify_ref, parse_spotify_ref
from bot.ui.library import change_embed, item_choices
from bot.ui.replies import defer, reply_to_error
from bot.ui.share import ShareButton, share_embed, share_view, show_save_count
from bot.ui.text import NO_MENTIONS

log = logging.getLogger(__name__)

NOTE_LIMIT = 500


class Share(commands.Cog):
    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_share_pressed(
        self, interaction: discord.Interaction, share_id: int, ref: SpotifyRef
    ) -> None:
        """Save (or follow) a shared item into the presser's own Spotify, and count it once."""
        bind_context(interaction.guild_id, interaction.user.id, "share button")
        services = self.bot.services
        try:
            await self.bot.subject(interaction)
            services.member_limits.take(interaction.user.id, Action.SHARE_BUTTON)
            await defer(interaction, private=True)
            change = await services.library.change(interaction.user.id, ref, add=True)
            await interaction.followup.send(
                embed=change_embed(change, add=True), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            if change.changed:
                count = await services.shares.record_save(share_id, interaction.user.id)
                if count is not None and interaction.message is not None:
                    await show_save_count(interaction.message, ref.kind, count)
        except Exception as exc:
            await reply_to_error(interaction, exc)

    async def _choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if len(current.strip()) < 2:
            return []
        try:
            await self.bot.subject(interaction)
            if not self.bot.services.member_limits.allowed(interaction.user.id, Action.SEARCH):
                return []
            found = await self.bot.services.library.search(
                interaction.user.id, current, SHARE_KINDS
            )
        except Exception:
            log.debug("share autocomplete gave nothing", exc_info=True)
            return []
        return item_choices(found)

    @app_commands.command(name="share", description="Share music or a podcast with Save buttons")
    @app_commands.describe(
        item="A Spotify link, URI, ID, or search text", note="A few words to go with it"
    )
    @app_commands.autocomplete(item=_choices)
    async def share(
        self, interaction: discord.Interaction, item: str, note: str | None = None
    ) -> None:
        services = self.bot.services
        await self.bot.subject(interaction)
        if note is not None and len(note) > NOTE_LIMIT:
            raise InvalidInput(f"Keep the note under {NOTE_LIMIT} characters.")
        if looks_like_spotify_ref(item):
            parse_spotify_ref(item, SHARE_KINDS, SpotifyKind.TRACK)
        await defer(interaction, private=False)
        ref = await services.library.resolve(
            interaction.user.id, item, SHARE_KINDS, SpotifyKind.TRACK
        )
        summary = await services.library.describe(interaction.user.id, ref)
        share_id = await services.shares.create(
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id or 0,
            sharer_id=interaction.user.id,
            item=summary,
            note=note,
        )
        message = await interaction.followup.send(
            embed=share_embed(summary, sharer=interaction.user.display_name, note=note, saves=0),
            view=share_view(share_id, ref),
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )
        await services.shares.attach_message(share_id, message.id)


async def setup(bot: Encore) -> None:
    bot.add_dynamic_items(ShareButton)
    await bot.add_cog(Share(bot))
