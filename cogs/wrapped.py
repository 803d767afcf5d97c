"""/wrapped: a member's year in plays as a PNG card."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.services.member_limits import Action
from bot.ui.replies import defer
from bot.ui.text import NO_MENTIONS
from bot.ui.wrapped import wrapped_file, wrapped_summary


class Wrapped(commands.Cog):
    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    @app_commands.command(name="wrapped", description="A member's year in plays, as a card")
    @app_commands.describe(
        member="Whose year (default: yours)", year="Which year (default: this year)"
    )
    async def wrapped(
        self,
        interaction: discord.Interaction,
        member: discord.User | None = None,
        year: int | None = None,
    ) -> None:
        services = self.bot.services
        subject = await self.bot.subject(interaction, member, spotify=False)
        chosen = services.wrapped.year(year)
        services.member_limits.take(interaction.user.id, Action.WRAPPED)
        await defer(interaction, private=False)
        found = await services.wrapped.wrapped(subject.discord_user_id, chosen)
        art = await services.wrapped.art(found)
        name = (member or interaction.user).display_name
        await interaction.followup.send(
            wrapped_summary(name, found),
            file=await wrapped_file(name, found, art),
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: Encore) -> None:
    await bot.add_cog(Wrapped(bot))
