"""/serverplaylist: the server's favourite tracks, as a playlist in the member's own account."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import InvalidInput, ItemKind, TimeRange
from bot.services.accounts import AccountService
from bot.services.community import CommunityService
from bot.services.items import ItemSummary
from bot.services.summaries import summarize

PLAYLIST_TRACKS = 50


@dataclass(frozen=True)
class CreatedPlaylist:
    playlist: ItemSummary
    tracks: int


class ServerPlaylistService:
    def __init__(self, community: CommunityService, accounts: AccountService) -> None:
        self._community = community
        self._accounts = accounts

    async def create(
        self, guild_id: int, guild_name: str, discord_user_id: int, time_range: TimeRange
    ) -> CreatedPlaylist:
        board = await self._community.leaderboard(
            guild_id, ItemKind.TRACK, time_range, 0, PLAYLIST_TRACKS
        )
        uris = [entry.item.uri for entry in board.entries]
        if not uris:
            raise InvalidInput(
                "This server has no favourites yet: they appear once linked members' "
                "top tracks are in."
            )
        api = self._accounts.api(discord_user_id)
        words = time_range.words
        playlist = await api.create_playlist(
            f"{guild_name} favourites · {words}"[:100],
            description=f"The {len(uris)} most-played tracks of {guild_name} members "
            f"({words}), made by Encore.",
            public=False,
        )
        await api.add_playlist_items(playlist.id, uris)
        return CreatedPlaylist(summarize(playlist), len(uris))
