"""Presences as Discord sends them: a member's status and activities, Spotify's in particular.

The Spotify activity carries exactly the fields Discord sends (type 2 "Spotify", `sync_id`,
`details`, `state`, `assets`, `timestamps`, `party`, `session_id`, `flags` 48), so the real
discord.py turns it into a `discord.Spotify`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox.discord_models import Json

ACTIVITY_LISTENING = 2
SPOTIFY_FLAGS = 48
"""SYNC | PLAY, as discord.py's `Spotify.to_dict` and Discord both send them."""


@dataclass(frozen=True)
class SpotifyTrack:
    """What a Spotify activity tells about a track."""

    id: str
    title: str
    artists: tuple[str, ...]
    album: str
    cover_id: str
    """The i.scdn.co image id of the album cover (`assets.large_image` is `spotify:<id>`)."""
    duration_ms: int


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def spotify_activity(
    user_id: int,
    track: SpotifyTrack,
    *,
    started_at: datetime,
    duration_ms: int,
    session_id: str,
    created_at: datetime,
) -> Json:
    start = epoch_ms(started_at)
    return {
        "type": ACTIVITY_LISTENING,
        "name": "Spotify",
        "id": "spotify:1",
        "flags": SPOTIFY_FLAGS,
        "sync_id": track.id,
        "details": track.title,
        "state": "; ".join(track.artists),
        "assets": {"large_image": f"spotify:{track.cover_id}", "large_text": track.album},
        "timestamps": {"start": start, "end": start + duration_ms},
        "party": {"id": f"spotify:{user_id}"},
        "session_id": session_id,
        "created_at": epoch_ms(created_at),
    }


@dataclass
class Presence:
    """A user's presence, the same in every guild they share with the bot."""

    status: str = "online"
    activities: list[Json] = field(default_factory=list)
    platform: str = "desktop"

    def payload(self, user_id: int, guild_id: int | None = None) -> Json:
        """A PRESENCE_UPDATE (with `guild_id`) or an entry of GUILD_CREATE's `presences`."""
        data: Json = {
            "user": {"id": str(user_id)},
            "status": self.status,
            "activities": self.activities,
            "client_status": {} if self.status == "offline" else {self.platform: self.status},
        }
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        return data
