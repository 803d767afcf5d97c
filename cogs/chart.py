"""/chart: a collage of the member's top albums or artists."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.domain import DEFAULT_TIME_RANGE
from bot.services.member_limits import Action
from bot.ui.chart import GRID_SIZES, chart_embed, chart_file
from bot.ui.options import TIME_RANGE_HELP, TimeRangeParam
from bot.ui.replies import defer
from bot.ui.text import NO_MENTIONS

SIZE_CHOICES = [app_commands.Choice(name=size, value=size) for size in GRID_SIZES]
SUBJECT_CHOICES = [
    app_commands.Choice(name="Albums (from your top tracks)", value="albums"),
    app_commands.Choice(name="Artists", value="artists"),
]


class Chart(commands.Cog):
    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    @app_commands.command(name="chart", description="A collage of your top albums or artists")
    @app_commands.describe(
        time_range=TIME_RANGE_HELP,
        size="How many tiles (default 3x3)",
        of="Albums or artists (default: albums)",
        private="Only you see the answer",
    )
    @app_commands.choices(size=SIZE_CHOICES, of=SUBJECT_CHOICES)
    async def chart(
        self,
        interaction: discord.Interaction,
        time_range: TimeRangeParam = DEFAULT_TIME_RANGE,
        size: str = "3x3",
        of: str = "albums",
        private: bool = False,
    ) -> None:
        services = self.bot.services
        await self.bot.subject(interaction)
        services.member_limits.take(interaction.user.id, Action.CHART)
        grid = GRID_SIZES[size]
        await defer(interaction, private=private)
        tiles = await services.charts.tiles(
            interaction.user.id, albums=of == "albums", time_range=time_range, count=grid * grid
        )
        await interaction.followup.send(
            embed=chart_embed(interaction.user.display_name, of, time_range, tiles, grid),
            file=await chart_file(tiles, grid),
            ephemeral=private,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: Encore) -> None:
    await bot.add_cog(Chart(bot))
