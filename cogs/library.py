"""/top, /saved, /following, /playlists, and /save /unsave /follow /unfollow."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import Encore
from bot.domain import ItemKind, Period, TimeRange
from bot.services.library import LibraryPage
from bot.services.member_limits import Action
from bot.services.play_rankings import chosen_basis
from bot.spotify.ids import (
    FOLLOW_KINDS,
    SAVE_KINDS,
    SpotifyKind,
    looks_like_spotify_ref,
    parse_spotify_ref,
)
from bot.ui.library import (
    change_embed,
    following_source,
    item_choices,
    saved_source,
    top_source,
)
from bot.ui.options import PERIOD_HELP, RANKING_TIME_RANGE_HELP, PeriodParam, TimeRangeParam
from bot.ui.paginator import Paginator
from bot.ui.plays import member_top_source
from bot.ui.replies import defer, send_private

log = logging.getLogger(__name__)

AUTOCOMPLETE_DEADLINE = 2.0


class Library(commands.Cog):
    top = app_commands.Group(name="top", description="Your most-played artists, tracks and albums")
    saved = app_commands.Group(name="saved", description="What you saved in Spotify")

    def __init__(self, bot: Encore) -> None:
        self.bot = bot

    async def _viewable(
        self, interaction: discord.Interaction, member: discord.User | discord.Member | None
    ) -> int:
        """The member whose data to show, checked before deferring so refusals stay private."""
        return (await self.bot.subject(interaction, member)).discord_user_id

    async def _show_top(
        self,
        interaction: discord.Interaction,
        kind: ItemKind,
        time_range: TimeRange | None,
        period: Period | None,
        member: discord.User | discord.Member | None,
        private: bool,
    ) -> None:
        asked = chosen_basis(time_range, period)
        owner = member or interaction.user
        services = self.bot.services
        plays = services.plays
        if (
            asked is None
            and self.bot.cleared(interaction, member)
            and services.member_limits.allowed(interaction.user.id, Action.TOP)
        ):  # either basis will do: answer Discord before the basis is read
            await defer(interaction, private=private)
        basis = await plays.member_basis([owner.id], asked)
        if isinstance(basis, Period):
            target = (
                await self.bot.subject_and_defer(
                    interaction, member, private=private, spotify=False
                )
            ).discord_user_id
            rows = await plays.member_top(target, kind, basis)
            source = member_top_source(kind, rows, owner.display_name, basis)
            await Paginator(source).start(interaction, ephemeral=private)
            return
        target = (
            await self.bot.subject_and_defer(
                interaction, member, private=private, action=Action.TOP
            )
        ).discord_user_id
        top_service = self.bot.services.top
        if kind is ItemKind.ALBUM:
            top = await top_service.top_albums(target, basis)
        else:
            top = await top_service.top(target, kind, basis)
        source = top_source(kind, top, owner.display_name, basis)
        await Paginator(source).start(interaction, ephemeral=private)

    @top.command(name="artists", description="Top artists by plays or Spotify's top lists")
    @app_commands.describe(
        time_range=RANKING_TIME_RANGE_HELP,
        period=PERIOD_HELP,
        member="Whose top artists (default: yours)",
        private="Only you see the answer",
    )
    async def top_artists(
        self,
        interaction: discord.Interaction,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
        member: discord.User | None = None,
        private: bool = False,
    ) -> None:
        await self._show_top(interaction, ItemKind.ARTIST, time_range, period, member, private)

    @top.command(name="tracks", description="Top tracks by plays or Spotify's top lists")
    @app_commands.describe(
        time_range=RANKING_TIME_RANGE_HELP,
        period=PERIOD_HELP,
        member="Whose top tracks (default: yours)",
        private="Only you see the answer",
    )
    async def top_tracks(
        self,
        interaction: discord.Interaction,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
        member: discord.User | None = None,
        private: bool = False,
    ) -> None:
        await self._show_top(interaction, ItemKind.TRACK, time_range, period, member, private)

    @top.command(name="albums", description="Top albums by plays, or from your top tracks")
    @app_commands.describe(
        time_range=RANKING_TIME_RANGE_HELP,
        period=PERIOD_HELP,
        member="Whose top albums (default: yours)",
        private="Only you see the answer",
    )
    async def top_albums(
        self,
        interaction: discord.Interaction,
        time_range: TimeRangeParam | None = None,
        period: PeriodParam | None = None,
        member: discord.User | None = None,
        private: bool = False,
    ) -> None:
        await self._show_top(interaction, ItemKind.ALBUM, time_range, period, member, private)

    async def _show_saved(self, interaction: discord.Interaction, what: str, private: bool) -> None:
        user_id = await self._viewable(interaction, None)
        await defer(interaction, private=private)
        library = self.bot.services.library
        first = await library.saved_page(user_id, what, 0)

        async def fetch(offset: int, limit: int) -> LibraryPage:
            return await library.saved_page(user_id, what, offset, limit)

        source = saved_source(what, first, fetch, interaction.user.display_name)
        await Paginator(source).start(interaction, ephemeral=private)

    @saved.command(name="tracks", description="Your saved tracks")
    @app_commands.describe(private="Only you see the answer")
    async def saved_tracks(self, interaction: discord.Interaction, private: bool = False) -> None:
        await self._show_saved(interaction, "tracks", private)

    @saved.command(name="albums", description="Your saved albums")
    @app_commands.describe(private="Only you see the answer")
    async def saved_albums(self, interaction: discord.Interaction, private: bool = False) -> None:
        await self._show_saved(interaction, "albums", private)

    @saved.command(name="shows", description="Podcasts you follow")
    @app_commands.describe(private="Only you see the answer")
    async def saved_shows(self, interaction: discord.Interaction, private: bool = False) -> None:
        await self._show_saved(interaction, "shows", private)

    @saved.command(name="episodes", description="Your saved podcast episodes")
    @app_commands.describe(private="Only you see the answer")
    async def saved_episodes(self, interaction: discord.Interaction, private: bool = False) -> None:
        await self._show_saved(interaction, "episodes", private)

    @saved.command(name="audiobooks", description="Your saved audiobooks")
    @app_commands.describe(private="Only you see the answer")
    async def saved_audiobooks(
        self, interaction: discord.Interaction, private: bool = False
    ) -> None:
        await self._show_saved(interaction, "audiobooks", private)

    @app_commands.command(name="playlists", description="Your playlists")
    @app_commands.describe(private="Only you see the answer")
    async def playlists(self, interaction: discord.Interaction, private: bool = False) -> None:
        await self._show_saved(interaction, "playlists", private)

    @app_commands.command(name="following", description="Artists you follow")
    @app_commands.describe(private="Only you see the answer")
    async def following(self, interaction: discord.Interaction, private: bool = False) -> None:
        user_id = await self._viewable(interaction, None)
        await defer(interaction, private=private)
        artists = await self.bot.services.library.following(user_id)
        source = following_source(artists, interaction.user.display_name)
        await Paginator(source).start(interaction, ephemeral=private)

    async def _change(
        self,
        interaction: discord.Interaction,
        item: str,
        kinds: Collection[SpotifyKind],
        bare_id_kind: SpotifyKind,
        *,
        add: bool,
    ) -> None:
        services = self.bot.services
        await self.bot.subject(interaction)
        if not item.strip():
            await send_private(interaction, "Give a Spotify link, URI, ID or a search.")
            return
        if looks_like_spotify_ref(item):
            parse_spotify_ref(item, kinds, bare_id_kind)
        services.member_limits.take(interaction.user.id, Action.LIBRARY_CHANGE)
        await defer(interaction, private=True)
        ref = await services.library.resolve(interaction.user.id, item, kinds, bare_id_kind)
        change = await services.library.change(interaction.user.id, ref, add=add)
        await interaction.followup.send(
            embed=change_embed(change, add=add),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def _autocomplete(
        self, interaction: discord.Interaction, current: str, kinds: Collection[SpotifyKind]
    ) -> list[app_commands.Choice[str]]:
        """Search as the member types; an empty list rather than a late answer."""
        if len(current.strip()) < 2:
            return []
        try:
            await self.bot.subject(interaction)
            if not self.bot.services.member_limits.allowed(interaction.user.id, Action.SEARCH):
                return []
            found = await asyncio.wait_for(
                self.bot.services.library.search(interaction.user.id, current, kinds),
                AUTOCOMPLETE_DEADLINE,
            )
        except Exception:
            log.debug("autocomplete search gave nothing", exc_info=True)
            return []
        return item_choices(found)

    async def _save_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(interaction, current, SAVE_KINDS)

    async def _follow_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(interaction, current, FOLLOW_KINDS)

    @app_commands.command(
        name="save", description="Save a track, album, show, episode or audiobook"
    )
    @app_commands.describe(item="A Spotify link, URI, ID, or search text")
    @app_commands.autocomplete(item=_save_choices)
    async def save(self, interaction: discord.Interaction, item: str) -> None:
        await self._change(interaction, item, SAVE_KINDS, SpotifyKind.TRACK, add=True)

    @app_commands.command(name="unsave", description="Remove an item from your library")
    @app_commands.describe(item="A Spotify link, URI, ID, or search text")
    @app_commands.autocomplete(item=_save_choices)
    async def unsave(self, interaction: discord.Interaction, item: str) -> None:
        await self._change(interaction, item, SAVE_KINDS, SpotifyKind.TRACK, add=False)

    @app_commands.command(name="follow", description="Follow an artist, user or playlist")
    @app_commands.describe(item="A Spotify link, URI, ID, or search text")
    @app_commands.autocomplete(item=_follow_choices)
    async def follow(self, interaction: discord.Interaction, item: str) -> None:
        await self._change(interaction, item, FOLLOW_KINDS, SpotifyKind.ARTIST, add=True)

    @app_commands.command(name="unfollow", description="Unfollow an artist, user or playlist")
    @app_commands.describe(item="A Spotify link, URI, ID, or search text")
    @app_commands.autocomplete(item=_follow_choices)
    async def unfollow(self, interaction: discord.Interaction, item: str) -> None:
        await self._change(interaction, item, FOLLOW_KINDS, SpotifyKind.ARTIST, add=False)


async def setup(bot: Encore) -> None:
    await bot.add_cog(Library(bot))
