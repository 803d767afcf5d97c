"""/serverplaylist: the server's favourite tracks, as a playlist in the member's own account.

Which favourites: with `time_range` given, the top-lists leaderboard of that range, as before.
Without it, the server's most played tracks of the last 30 days when a counted member has a
play in that time (tracks known only by name cannot go in a playlist and are skipped), else
the top-lists leaderboard of the last 6 months.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import InvalidInput, ItemKind, Period, TimeRange
from bot.services.accounts import AccountService
from bot.services.community import CommunityService
from bot.services.items import ItemSummary
from bot.services.play_rankings import PlayRankingService
from bot.services.summaries import summarize

PLAYLIST_TRACKS = 50
PLAYED_CANDIDATES = 100


@dataclass(frozen=True)
class CreatedPlaylist:
    playlist: ItemSummary
    tracks: int


class ServerPlaylistService:
    def __init__(
        self, community: CommunityService, accounts: AccountService, plays: PlayRankingService
    ) -> None:
        self._community = community
        self._accounts = accounts
        self._plays = plays

    async def _favourites(
        self, guild_id: int, time_range: TimeRange | None
    ) -> tuple[list[str], str, str]:
        """(track URIs, words for the period, what they are ranked by)."""
        basis = await self._plays.guild_basis(guild_id, time_range)
        if isinstance(basis, Period):
            board = await self._plays.board(guild_id, ItemKind.TRACK, basis, 0, PLAYED_CANDIDATES)
            uris = [
                f"spotify:track:{entry.item.spotify_id}"
                for entry in board.entries
                if entry.item.spotify_id
            ][:PLAYLIST_TRACKS]
            return uris, basis.words, "most-played"
        ranked = await self._community.leaderboard(
            guild_id, ItemKind.TRACK, basis, 0, PLAYLIST_TRACKS
        )
        return [entry.item.uri for entry in ranked.entries], basis.words, "favourite"

    async def create(
        self, guild_id: int, guild_name: str, discord_user_id: int, time_range: TimeRange | None
    ) -> CreatedPlaylist:
        """Top lists of `time_range` when given, else as the module docstring says."""
        uris, words, ranked_by = await self._favourites(guild_id, time_range)
        if not uris:
            raise InvalidInput(
                "This server has no favourites yet: they appear once linked members' "
                "top tracks are in."
            )
        api = self._accounts.api(discord_user_id)
        playlist = await api.create_playlist(
            f"{guild_name} favourites · {words}"[:100],
            description=f"The {len(uris)} {ranked_by} tracks of {guild_name} members "
            f"({words}), made by Encore.",
            public=False,
        )
        await api.add_playlist_items(playlist.id, uris)
        return CreatedPlaylist(summarize(playlist), len(uris))
