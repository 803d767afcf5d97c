"""/leaderboard, /whoknows, /crowns, /compat, /recommend, /serverplaylist and the admin
/settings."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.domain import InvalidInput, ItemKind, Period, TimeRange
from bot.services.member_limits import Action
from bot.services.play_rankings import Basis, chosen_basis
from bot.spotify.ids import BASE62_ID, looks_like_spotify_ref, parse_spotify_ref
from bot.store.leaderboard import Leaderboard
from bot.store.play_rankings import PlayBoard
from bot.store.plays import PlayedItem
from bot.ui.community import (
    PostPicks,
    compat_embed,
    leaderboard_source,
    nobody_knows,
    playlist_embed,
    recommendations_embed,
    who_knows_embed,
)
from bot.ui.crowns import crowns_source, no_crowns
from bot.ui.library import item_choices
from bot.ui.listening import record_listening_text
from bot.ui.options import (
    PERIOD_HELP,
    RANKING_TIME_RANGE_HELP,
    PeriodParam,
    TimeRangeParam,
)
from bot.ui.paginator import Paginator
from bot.ui.plays import (
    KIND_PLURAL,
    KIND_SINGULAR,
    SPOTIFY_KINDS,
    nobody_played,
    play_board_source,
    play_compat_embed,
    play_who_knows_embed,
    played_choices,
)
from bot.ui.replies import defer, send_private
from bot.ui.text import NO_MENTIONS, echo, escape

log = logging.getLogger(__name__)

SERVERPLAYLIST_TIME_RANGE_HELP = (
    "Favourites from top lists over this range (default: this month's most played, if any)"
)


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
        self,
        interaction: discord.Interaction,
        kind: ItemKind,
        time_range: TimeRange | None,
        period: Period | None,
    ) -> None:
        assert interaction.guild is not None
        guild = interaction.guild
        asked = chosen_basis(time_range, period)
        if kind is ItemKind.ALBUM and isinstance(asked, TimeRange):
            raise InvalidInput("Album leaderboards count plays: pick a `period` instead.")
        await defer(interaction, private=False)
        basis = await self.bot.services.plays.guild_basis(guild.id, asked)
        if kind is ItemKind.ALBUM and isinstance(basis, TimeRange):
            basis = Period.MONTH
        if isinstance(basis, Period):
            await self._play_board(interaction, kind, basis)
            return
        community = self.bot.services.community
        by_lists = basis

        async def fetch(offset: int, limit: int) -> Leaderboard:
            return await community.leaderboard(guild.id, kind, by_lists, offset, limit)

        first = await fetch(0, 10)
        source = leaderboard_source(first, fetch, guild.name)
        await Paginator(source).start(interaction, ephemeral=False)

    async def _play_board(
        self, interaction: discord.Interaction, kind: ItemKind, period: Period
    ) -> None:
        assert interaction.guild is not None
        guild = interaction.guild
        plays = self.bot.services.plays

        async def fetch(offset: int, limit: int) -> PlayBoard:
            return await plays.board(guild.id, kind, period, offset, limit)

        first = await fetch(0, 10)
        await Paginator(play_board_source(first, fetch, guild.name)).start(
            interaction, ephemeral=False
        )

    @leaderboard.command(name="artists", description="The server's top artists")
    @app_commands.describe(time_range=RANKING_TIME_RANGE_HELP, period=PERIOD_HELP)
    async def leaderboard_artists(
        self,
        interaction: discord.Interaction,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
    ) -> None:
        await self._board(interaction, ItemKind.ARTIST, time_range, period)

    @leaderboard.command(name="tracks", description="The server's top tracks")
    @app_commands.describe(time_range=RANKING_TIME_RANGE_HELP, period=PERIOD_HELP)
    async def leaderboard_tracks(
        self,
        interaction: discord.Interaction,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
    ) -> None:
        await self._board(interaction, ItemKind.TRACK, time_range, period)

    @leaderboard.command(name="albums", description="The server's top albums")
    @app_commands.describe(time_range=RANKING_TIME_RANGE_HELP, period=PERIOD_HELP)
    async def leaderboard_albums(
        self,
        interaction: discord.Interaction,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
    ) -> None:
        await self._board(interaction, ItemKind.ALBUM, time_range, period)

    async def _choices(
        self, interaction: discord.Interaction, current: str, kind: ItemKind
    ) -> list[app_commands.Choice[str]]:
        """Items known in this server: played here first, then in counted top lists."""
        if interaction.guild_id is None:
            return []
        services = self.bot.services
        try:
            played = await services.plays.known_items(
                interaction.guild_id, kind, current.strip(), 25
            )
            listed = (
                await services.community.known_artists(
                    interaction.guild_id, current.strip(), kind=kind
                )
                if kind is not ItemKind.ALBUM
                else []
            )
        except Exception:
            log.debug("who-knows autocomplete gave nothing", exc_info=True)
            return []
        choices = played_choices(played)
        values = {choice.value for choice in choices}
        choices += [c for c in item_choices(listed) if c.value not in values]
        return choices[:25]

    async def _artist_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, ItemKind.ARTIST)

    async def _track_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, ItemKind.TRACK)

    async def _album_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, ItemKind.ALBUM)

    @staticmethod
    def _spotify_id(text: str, kind: ItemKind) -> str | None:
        """The Spotify ID in a link, URI or bare ID of the kind; None for a name."""
        wanted = SPOTIFY_KINDS[kind]
        if looks_like_spotify_ref(text):
            return parse_spotify_ref(text, [wanted], wanted).id
        if BASE62_ID.fullmatch(text):
            return text
        return None

    async def _listed_id(self, guild_id: int, text: str, kind: ItemKind) -> str:
        """An item's Spotify ID from a link/URI/ID, or the name of one in this server's lists."""
        text = text.strip()
        spotify_id = self._spotify_id(text, kind)
        if spotify_id is not None:
            return spotify_id
        found = await self.bot.services.community.known_artists(guild_id, text, 1, kind)
        if not found:
            raise InvalidInput(
                f"No {KIND_SINGULAR[kind]} called “{echo(text, 80)}” is in this server's top "
                f"lists. Try a Spotify {KIND_SINGULAR[kind]} link."
            )
        return found[0].id

    async def _played_item(self, guild_id: int, text: str, kind: ItemKind) -> PlayedItem | None:
        text = text.strip()
        spotify_id = self._spotify_id(text, kind)
        plays = self.bot.services.plays
        found = await plays.find_item(
            guild_id, kind, spotify_id=spotify_id, name=None if spotify_id else text
        )
        if found is None and spotify_id is None and kind is not ItemKind.ALBUM:
            listed = await self.bot.services.community.known_artists(guild_id, text, 1, kind)
            if listed:
                found = await plays.find_item(guild_id, kind, spotify_id=listed[0].id, name=None)
        return found

    async def _who_knows(
        self,
        interaction: discord.Interaction,
        kind: ItemKind,
        text: str,
        time_range: TimeRange | None,
        period: Period | None,
    ) -> None:
        assert interaction.guild is not None
        guild = interaction.guild
        asked = chosen_basis(time_range, period)
        if kind is ItemKind.ALBUM and isinstance(asked, TimeRange):
            raise InvalidInput("Albums are ranked by plays: pick a `period` instead.")
        if kind is not ItemKind.ALBUM:
            self._spotify_id(text.strip(), kind)  # a link of the wrong kind is refused early
        basis: Basis = await self.bot.services.plays.guild_basis(guild.id, asked)
        if isinstance(basis, TimeRange) and kind is ItemKind.ALBUM:
            basis = Period.MONTH
        if isinstance(basis, Period):
            item = await self._played_item(guild.id, text, kind)
            if item is None:
                await interaction.response.send_message(
                    nobody_played(kind, text), allowed_mentions=NO_MENTIONS
                )
                return
            played = await self.bot.services.plays.who_knows(guild.id, item, basis)
            await interaction.response.send_message(
                embed=play_who_knows_embed(played, guild), allowed_mentions=NO_MENTIONS
            )
            return
        spotify_id = await self._listed_id(guild.id, text, kind)
        result = await self.bot.services.community.who_knows(
            guild.id, spotify_id, basis, 0, 25, kind
        )
        if result is None:
            await interaction.response.send_message(
                nobody_knows(text, basis, KIND_PLURAL[kind]), allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.response.send_message(
            embed=who_knows_embed(result, guild), allowed_mentions=NO_MENTIONS
        )

    @whoknows.command(name="artist", description="Who here listens to this artist")
    @app_commands.describe(
        artist="Artist name (known in this server), link or URI",
        time_range=RANKING_TIME_RANGE_HELP,
        period=PERIOD_HELP,
    )
    @app_commands.autocomplete(artist=_artist_choices)
    async def whoknows_artist(
        self,
        interaction: discord.Interaction,
        artist: str,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
    ) -> None:
        await self._who_knows(interaction, ItemKind.ARTIST, artist, time_range, period)

    @whoknows.command(name="track", description="Who here listens to this track")
    @app_commands.describe(
        track="Track name (known in this server), link or URI",
        time_range=RANKING_TIME_RANGE_HELP,
        period=PERIOD_HELP,
    )
    @app_commands.autocomplete(track=_track_choices)
    async def whoknows_track(
        self,
        interaction: discord.Interaction,
        track: str,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
    ) -> None:
        await self._who_knows(interaction, ItemKind.TRACK, track, time_range, period)

    @whoknows.command(name="album", description="Who here listens to this album")
    @app_commands.describe(
        album="Album name (known in this server), link or URI",
        time_range=RANKING_TIME_RANGE_HELP,
        period=PERIOD_HELP,
    )
    @app_commands.autocomplete(album=_album_choices)
    async def whoknows_album(
        self,
        interaction: discord.Interaction,
        album: str,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
    ) -> None:
        await self._who_knows(interaction, ItemKind.ALBUM, album, time_range, period)

    @app_commands.command(name="crowns", description="Artists where a member leads this server")
    @app_commands.describe(member="Whose crowns (default: yours)")
    @app_commands.guild_only()
    async def crowns(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        assert interaction.guild is not None
        owner = member or interaction.user
        subject = await self.bot.subject(interaction, member, spotify=False)
        await defer(interaction, private=False)
        held = await self.bot.services.plays.crowns(interaction.guild.id, subject.discord_user_id)
        if not held:
            own = subject.discord_user_id == interaction.user.id
            hidden = own and not await self.bot.services.members.is_visible(
                interaction.guild.id, subject.discord_user_id
            )
            await interaction.followup.send(
                no_crowns(owner.display_name, own, hidden=hidden), allowed_mentions=NO_MENTIONS
            )
            return
        source = crowns_source(held, owner.display_name, interaction.guild.name)
        await Paginator(source).start(interaction, ephemeral=False)

    @app_commands.command(name="compat", description="How well your taste matches a member's")
    @app_commands.describe(
        member="Who to compare with", time_range=RANKING_TIME_RANGE_HELP, period=PERIOD_HELP
    )
    @app_commands.guild_only()
    async def compat(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
    ) -> None:
        assert interaction.guild is not None
        services = self.bot.services
        if member.id == interaction.user.id:
            raise InvalidInput("Pick another member: you match yourself 100%.")
        asked = chosen_basis(time_range, period)
        pair = (interaction.user.id, member.id)
        basis = await services.plays.member_basis(pair, asked)
        me, them = escape(interaction.user.display_name), escape(member.display_name)
        if isinstance(basis, Period):
            await self.bot.subject_and_defer(interaction, member, private=False, spotify=False)
            played = await services.plays.compat(*pair, basis)
            await interaction.followup.send(
                embed=play_compat_embed(played, me, them, basis), allowed_mentions=NO_MENTIONS
            )
            return
        subject = await self.bot.subject_and_defer(
            interaction, member, private=False, invoker_linked=True
        )
        result = await services.community.compat(subject, basis)
        embed = compat_embed(result, me, them, basis)
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
        subject = await self.bot.subject_and_defer(
            interaction, member, private=False, action=Action.RECOMMEND
        )
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
    @app_commands.describe(time_range=SERVERPLAYLIST_TIME_RANGE_HELP)
    @app_commands.guild_only()
    async def serverplaylist(
        self, interaction: discord.Interaction, time_range: TimeRangeParam | None = None
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
        record_listening="Record members' Spotify status in Discord as plays (default: off)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def settings(
        self,
        interaction: discord.Interaction,
        share_channel: discord.TextChannel | None = None,
        clear_share_channel: bool = False,
        record_listening: bool | None = None,
    ) -> None:
        assert interaction.guild is not None
        guild_id = interaction.guild.id
        shares = self.bot.services.shares
        recording = self.bot.services.recording
        if clear_share_channel:
            await shares.set_share_channel(guild_id, None)
        elif share_channel is not None:
            await shares.set_share_channel(guild_id, share_channel.id)
        if record_listening is not None:
            await recording.set_guild(guild_id, record_listening)
        current = await shares.share_channel(guild_id)
        where = f"<#{current}>" if current else "not set"
        recorded = record_listening_text(
            recording.guild_records(guild_id),
            record_listening is not None,
            self.bot.intents.presences,
        )
        await send_private(interaction, f"Share channel for /recommend picks: {where}.\n{recorded}")


async def setup(bot: Encore) -> None:
    await bot.add_cog(Community(bot))
