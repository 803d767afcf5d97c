"""/leaderboard, /whoknows, /compat, /recommend, /serverplaylist and the admin /settings."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.domain import DEFAULT_TIME_RANGE, InvalidInput, ItemKind, TimeRange
from bot.services.member_limits import Action
from bot.spotify.ids import BASE62_ID, SpotifyKind, looks_like_spotify_ref, parse_spotify_ref
from bot.store.leaderboard import Leaderboard
from bot.ui.community import (
    PostPicks,
    compat_embed,
    leaderboard_source,
    nobody_knows,
    playlist_embed,
    recommendations_embed,
    who_knows_embed,
)
from bot.ui.library import item_choices
from bot.ui.options import TIME_RANGE_HELP, TimeRangeParam
from bot.ui.paginator import Paginator
from bot.ui.replies import defer, send_private
from bot.ui.text import NO_MENTIONS, echo, escape

log = logging.getLogger(__name__)


class Community(commands.Cog):
    leaderboard = app_commands.Group(
        name="leaderboard", description="This server's favourites", guild_only=True
    )
    whoknows = app_commands.Group(
        name="whoknows", description="Who in this server listens to…", guild_only=True
    )

    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    async def _board(
        self, interaction: discord.Interaction, kind: ItemKind, time_range: TimeRange
    ) -> None:
        assert interaction.guild is not None
        guild = interaction.guild
        await defer(interaction, private=False)
        community = self.bot.services.community

        async def fetch(offset: int, limit: int) -> Leaderboard:
            return await community.leaderboard(guild.id, kind, time_range, offset, limit)

        first = await fetch(0, 10)
        source = leaderboard_source(first, fetch, guild.name)
        await Paginator(source).start(interaction, ephemeral=False)

    @leaderboard.command(name="artists", description="The server's top artists")
    @app_commands.describe(time_range=TIME_RANGE_HELP)
    async def leaderboard_artists(
        self, interaction: discord.Interaction, time_range: TimeRangeParam = DEFAULT_TIME_RANGE
    ) -> None:
        await self._board(interaction, ItemKind.ARTIST, time_range)

    @leaderboard.command(name="tracks", description="The server's top tracks")
    @app_commands.describe(time_range=TIME_RANGE_HELP)
    async def leaderboard_tracks(
        self, interaction: discord.Interaction, time_range: TimeRangeParam = DEFAULT_TIME_RANGE
    ) -> None:
        await self._board(interaction, ItemKind.TRACK, time_range)

    async def _artist_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        try:
            found = await self.bot.services.community.known_artists(
                interaction.guild_id, current.strip()
            )
        except Exception:
            log.debug("who-knows autocomplete gave nothing", exc_info=True)
            return []
        return item_choices(found)

    async def _artist_id(self, guild_id: int, text: str) -> str:
        """An artist link/URI/ID, or the name of an artist known in this server."""
        text = text.strip()
        if looks_like_spotify_ref(text):
            return parse_spotify_ref(text, [SpotifyKind.ARTIST], SpotifyKind.ARTIST).id
        if BASE62_ID.fullmatch(text):
            return text
        found = await self.bot.services.community.known_artists(guild_id, text, 1)
        if not found:
            raise InvalidInput(
                f"No artist called “{echo(text, 80)}” is in this server's top lists. "
                "Try a Spotify artist link."
            )
        return found[0].id

    @whoknows.command(name="artist", description="Who here has this artist in their top")
    @app_commands.describe(
        artist="Artist name (known in this server), link or URI",
        time_range=TIME_RANGE_HELP,
    )
    @app_commands.autocomplete(artist=_artist_choices)
    async def whoknows_artist(
        self,
        interaction: discord.Interaction,
        artist: str,
        time_range: TimeRangeParam = DEFAULT_TIME_RANGE,
    ) -> None:
        assert interaction.guild is not None
        artist_id = await self._artist_id(interaction.guild.id, artist)
        result = await self.bot.services.community.who_knows(
            interaction.guild.id, artist_id, time_range, 0, 25
        )
        if result is None:
            await interaction.response.send_message(
                nobody_knows(artist, time_range), allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.response.send_message(
            embed=who_knows_embed(result, interaction.guild), allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="compat", description="How well your taste matches a member's")
    @app_commands.describe(member="Who to compare with", time_range=TIME_RANGE_HELP)
    @app_commands.guild_only()
    async def compat(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        time_range: TimeRangeParam = DEFAULT_TIME_RANGE,
    ) -> None:
        assert interaction.guild is not None
        services = self.bot.services
        if member.id == interaction.user.id:
            raise InvalidInput("Pick another member: you match yourself 100%.")
        subject = await self.bot.subject(interaction, member, invoker_linked=True)
        await defer(interaction, private=False)
        result = await services.community.compat(subject, time_range)
        embed = compat_embed(
            result,
            escape(interaction.user.display_name),
            escape(member.display_name),
            time_range,
        )
        await interaction.followup.send(embed=embed, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name="recommend", description="Picks from this server's listening")
    @app_commands.describe(member="Picks for whom (default: you)")
    @app_commands.guild_only()
    async def recommend(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        assert interaction.guild is not None
        services = self.bot.services
        target = member or interaction.user
        subject = await self.bot.subject(interaction, member)
        services.member_limits.take(interaction.user.id, Action.RECOMMEND)
        await defer(interaction, private=False)
        picks = await services.community.recommend(interaction.guild.id, subject)
        embed = recommendations_embed(picks, escape(target.display_name))
        view: discord.ui.View = discord.utils.MISSING
        channel_id = await services.shares.share_channel(interaction.guild.id)
        channel = interaction.guild.get_channel(channel_id) if channel_id else None
        if (
            picks
            and isinstance(channel, discord.TextChannel)
            and channel.id != interaction.channel_id
        ):
            view = PostPicks(interaction.user.id, channel, embed)
        await interaction.followup.send(embed=embed, view=view, allowed_mentions=NO_MENTIONS)

    @app_commands.command(
        name="serverplaylist", description="Make a playlist of this server's favourites"
    )
    @app_commands.describe(time_range=TIME_RANGE_HELP)
    @app_commands.guild_only()
    async def serverplaylist(
        self, interaction: discord.Interaction, time_range: TimeRangeParam = DEFAULT_TIME_RANGE
    ) -> None:
        assert interaction.guild is not None
        services = self.bot.services
        await self.bot.subject(interaction)
        services.member_limits.take(interaction.user.id, Action.SERVER_PLAYLIST)
        await defer(interaction, private=True)
        try:
            created = await services.server_playlist.create(
                interaction.guild.id, interaction.guild.name, interaction.user.id, time_range
            )
        except InvalidInput:
            services.member_limits.give_back(interaction.user.id, Action.SERVER_PLAYLIST)
            raise
        await interaction.followup.send(
            embed=playlist_embed(created.playlist, created.tracks, interaction.guild.name),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(name="settings", description="Server settings for Encore (admins)")
    @app_commands.describe(
        share_channel="Where members may post their /recommend picks",
        clear_share_channel="Stop offering to post picks",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def settings(
        self,
        interaction: discord.Interaction,
        share_channel: discord.TextChannel | None = None,
        clear_share_channel: bool = False,
    ) -> None:
        assert interaction.guild is not None
        shares = self.bot.services.shares
        if clear_share_channel:
            await shares.set_share_channel(interaction.guild.id, None)
        elif share_channel is not None:
            await shares.set_share_channel(interaction.guild.id, share_channel.id)
        current = await shares.share_channel(interaction.guild.id)
        where = f"<#{current}>" if current else "not set"
        await send_private(interaction, f"Share channel for /recommend picks: {where}.")


async def setup(bot: Encore) -> None:
    await bot.add_cog(Community(bot))
