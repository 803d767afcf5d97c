"""/share: post an item to the channel with a Save / Follow button any linked member can press."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.domain import InvalidInput
from bot.process.logs import bind_context
from bot.services.shares import SHARE_KINDS
from bot.spotify.ids import SpotifyKind, SpotifyRef, looks_like_spotify_ref, parse_spotify_ref
from bot.ui.library import change_embed, item_choices
from bot.ui.replies import defer, reply_to_error
from bot.ui.share import (
    SHARE_BUTTON,
    button_label,
    open_button,
    saves_footer,
    share_button_id,
    share_embed,
)
from bot.ui.text import NO_MENTIONS

log = logging.getLogger(__name__)

NOTE_LIMIT = 500


class ShareButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=SHARE_BUTTON.pattern):
    """Saves (or follows) the shared item into the clicker's own Spotify.

    The custom id carries the share id and the item, so the button keeps working after a
    restart, and even if the share's row is gone.
    """

    def __init__(self, share_id: int, ref: SpotifyRef) -> None:
        label, emoji = button_label(ref.kind)
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.success,
                label=label,
                emoji=emoji,
                custom_id=share_button_id(share_id, ref),
            )
        )
        self.share_id = share_id
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ShareButton:
        ref = SpotifyRef(SpotifyKind(match["kind"]), match["id"])
        return cls(int(match["share_id"]), ref)

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = interaction.client
        assert isinstance(bot, Encore)
        bind_context(interaction.guild_id, interaction.user.id, "share button")
        try:
            await bot.subject(interaction)
            await defer(interaction, private=True)
            change = await bot.services.library.change(interaction.user.id, self.ref, add=True)
            await interaction.followup.send(
                embed=change_embed(change, add=True), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            if change.changed:
                count = await bot.services.shares.record_save(self.share_id, interaction.user.id)
                if count is not None and interaction.message is not None:
                    await self._show_count(interaction.message, count)
        except Exception as exc:
            await reply_to_error(interaction, exc)

    async def _show_count(self, message: discord.Message, count: int) -> None:
        if not message.embeds:
            return
        embed = message.embeds[0]
        embed.set_footer(text=saves_footer(self.ref.kind, count))
        try:
            await message.edit(embed=embed)
        except discord.HTTPException:
            log.info("could not update the save count of share %s", self.share_id)


def share_view(share_id: int, ref: SpotifyRef) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ShareButton(share_id, ref))
    view.add_item(open_button(ref))
    return view


class Share(commands.Cog):
    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    async def _choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if len(current.strip()) < 2:
            return []
        try:
            await self.bot.subject(interaction)
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
