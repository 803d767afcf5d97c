"""/import: a private one-time link to the upload page for Spotify's streaming-history files."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.ui.account import relink_for_history_text
from bot.ui.imports import import_prompt, import_view


class Imports(commands.Cog):
    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    @app_commands.command(
        name="import", description="Import your Spotify streaming history from its files"
    )
    async def import_history(self, interaction: discord.Interaction) -> None:
        user = interaction.user
        shown = user.display_name
        if shown != user.name:
            shown = f"{shown} (@{user.name})"
        url = await self.bot.services.imports.start_link(
            user.id,
            shown,
            guild_id=interaction.guild_id,
            application_id=interaction.application_id,
            interaction_token=interaction.token,
        )
        content = import_prompt()
        if await self.bot.services.accounts.take_relink_notice(user.id):
            content = f"{content}\n\n{relink_for_history_text()}"
        await interaction.response.send_message(content, view=import_view(url), ephemeral=True)


async def setup(bot: Encore) -> None:
    await bot.add_cog(Imports(bot))
