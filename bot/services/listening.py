"""/nowplaying and /recent: what a member plays now (presence first, else Spotify's
currently-playing for a linked member) and the plays recorded for them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from bot.db.engine import Sessions
from bot.domain import ItemKind, SpotifyActivity
from bot.services.accounts import AccountService
from bot.services.presence import PresenceTracker
from bot.spotify.models import Track
from bot.store.listening import members_who_played
from bot.store.plays import ArtistKey, PlayRow, TrackKey, last_play, play_counts
from bot.store.plays import recent_plays as stored_recent_plays

RECENT_LIMIT = 50
"""/recent shows the last 50 plays (five pages): enough to scroll, cheap to read."""


@dataclass(frozen=True)
class Playing:
    """A track playing now, from presence or Spotify's currently-playing."""

    from_presence: bool  # False: read from the member's Spotify
    track_id: str | None
    title: str
    artists: tuple[str, ...]
    album: str | None
    cover_url: str | None
    position_ms: int | None
    duration_ms: int | None
    artist_id: str | None = None


@dataclass(frozen=True)
class NowPlaying:
    playing: Playing | None
    track_plays: int
    artist_plays: int
    artist_listeners: int  # members of this guild who played the artist (None outside guilds)
    last: PlayRow | None  # the last recorded play, when nothing plays


def _from_presence(activity: SpotifyActivity, now_ms: int) -> Playing:
    duration = activity.duration_ms
    position = max(0, now_ms - activity.start_ms)
    return Playing(
        from_presence=True,
        track_id=activity.track_id or None,
        title=activity.title,
        artists=activity.artists,
        album=activity.album,
        cover_url=activity.cover_url,
        position_ms=min(position, duration) if duration else position,
        duration_ms=duration or None,
    )


def _from_spotify(track: Track, progress_ms: int | None) -> Playing:
    return Playing(
        from_presence=False,
        track_id=track.id,
        title=track.name,
        artists=tuple(a.name for a in track.artists),
        album=track.album.name if track.album else None,
        cover_url=track.image_url,
        position_ms=progress_ms,
        duration_ms=track.duration_ms,
        artist_id=track.artists[0].id if track.artists else None,
    )


class ListeningService:
    def __init__(
        self, sessions: Sessions, accounts: AccountService, presence: PresenceTracker
    ) -> None:
        self._sessions = sessions
        self._accounts = accounts
        self._presence = presence

    def from_presence(self, discord_user_id: int) -> Playing | None:
        activity = self._presence.current(discord_user_id)
        return None if activity is None else _from_presence(activity, time.time_ns() // 1_000_000)

    async def now_playing(self, discord_user_id: int, guild_id: int | None) -> NowPlaying:
        """Presence first (no Spotify call); else currently-playing when the member is linked."""
        playing = self.from_presence(discord_user_id)
        if playing is None and discord_user_id in self._accounts.linked:
            current = await self._accounts.api(discord_user_id).currently_playing()
            if current is not None and current.item is not None:
                playing = _from_spotify(current.item, current.progress_ms)
        async with self._sessions() as session:
            if playing is None:
                last = await last_play(session, discord_user_id)
                return NowPlaying(None, 0, 0, 0, last)
            primary = playing.artists[0] if playing.artists else ""
            counts = await play_counts(
                session,
                discord_user_id,
                track_key=TrackKey(playing.title, primary, playing.track_id),
                artist_key=ArtistKey(primary, playing.artist_id) if primary else None,
            )
            listeners = 0
            if guild_id is not None and counts.artist_item is not None:
                listeners = await members_who_played(
                    session, guild_id, ItemKind.ARTIST, counts.artist_item
                )
        return NowPlaying(playing, counts.track, counts.artist, listeners, None)

    async def recent(
        self, discord_user_id: int, *, limit: int = RECENT_LIMIT, before: datetime | None = None
    ) -> list[PlayRow]:
        async with self._sessions() as session:
            return await stored_recent_plays(session, discord_user_id, limit=limit, before=before)
