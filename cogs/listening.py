"""/nowplaying and /recent, and the Save button under /nowplaying."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.process.logs import bind_context
from bot.spotify.ids import SpotifyKind, SpotifyRef
from bot.ui.library import change_embed
from bot.ui.listening import (
    RecentPlaysSource,
    SaveTrackButton,
    now_playing_embed,
    now_playing_view,
)
from bot.ui.paginator import Paginator
from bot.ui.replies import defer, reply_to_error
from bot.ui.text import NO_MENTIONS


def _name(interaction: discord.Interaction, member: discord.User | discord.Member | None) -> str:
    return (member or interaction.user).display_name


class Listening(commands.Cog):
    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    @app_commands.command(name="nowplaying", description="What a member is listening to now")
    @app_commands.describe(member="Whose listening (default: yours)")
    async def nowplaying(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        subject = await self.bot.subject_and_defer(
            interaction, member, private=False, spotify=False
        )
        found = await self.bot.services.listening.now_playing(
            subject.discord_user_id, interaction.guild_id
        )
        embed = now_playing_embed(_name(interaction, member), found)
        view = now_playing_view(found) or discord.utils.MISSING
        await interaction.followup.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="recent", description="A member's recently recorded plays")
    @app_commands.describe(member="Whose plays (default: yours)")
    async def recent(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        subject = await self.bot.subject_and_defer(
            interaction, member, private=False, spotify=False
        )
        plays = await self.bot.services.listening.recent(subject.discord_user_id)
        source = RecentPlaysSource(_name(interaction, member), plays)
        await Paginator(source).start(interaction, ephemeral=False)

    @commands.Cog.listener()
    async def on_nowplaying_save_pressed(
        self, interaction: discord.Interaction, track_id: str
    ) -> None:
        """Save the track into the presser's own Spotify (linked members; others get a hint)."""
        bind_context(interaction.guild_id, interaction.user.id, "nowplaying save")
        try:
            await self.bot.subject(interaction)
            await defer(interaction, private=True)
            ref = SpotifyRef(SpotifyKind.TRACK, track_id)
            change = await self.bot.services.library.change(interaction.user.id, ref, add=True)
            await interaction.followup.send(
                embed=change_embed(change, add=True), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        except Exception as exc:
            await reply_to_error(interaction, exc)


async def setup(bot: Encore) -> None:
    bot.add_dynamic_items(SaveTrackButton)
    await bot.add_cog(Listening(bot))
