"""One row of a Spotify history file: which format it is in, and the play it stands for or why
it does not count.

Extended streaming history rows (`Streaming_History_Audio_*.json`) end at `ts` (UTC) and say
whether the play was a track, a podcast episode or an audiobook chapter; account-data rows
(`StreamingHistory_music_*.json`) end at `endTime` ("YYYY-MM-DD HH:MM", UTC). Either way the
play started at its end minus `ms_played`. Unknown fields are ignored.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

MIN_MS_PLAYED = 30_000
_TRACK_URI_PREFIX = "spotify:track:"
_UNKNOWN_NAMES = frozenset({"Unknown Track", "Unknown Artist"})
"""What account-data history writes for local files and tracks Spotify no longer knows."""


class HistoryFormat(enum.Enum):
    EXTENDED = "extended"
    ACCOUNT = "account"


class SkipReason(enum.Enum):
    """Why a row of a history file is not counted as a play; `words` is what a member reads."""

    SHORT = "short"
    PODCAST = "podcast"
    AUDIOBOOK = "audiobook"
    VIDEO = "video"
    INCOGNITO = "incognito"
    NO_TRACK = "no_track"
    UNREADABLE = "unreadable"

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS = {
    SkipReason.SHORT: "plays under 30 seconds",
    SkipReason.PODCAST: "podcast episodes",
    SkipReason.AUDIOBOOK: "audiobook chapters",
    SkipReason.VIDEO: "videos",
    SkipReason.INCOGNITO: "private-session (incognito) plays",
    SkipReason.NO_TRACK: "plays without a track name or artist",
    SkipReason.UNREADABLE: "rows that could not be read",
}


class RowPlay(NamedTuple):
    """The parts of a play a history row holds."""

    started_at: datetime
    ms_played: int
    track_name: str
    artist_name: str
    album_name: str | None
    track_id: str | None


def detect_format(row: dict[str, Any]) -> HistoryFormat | None:
    """The format a history file's first row is in, or None when it is neither."""
    if "ts" in row and "ms_played" in row:
        return HistoryFormat.EXTENDED
    if "endTime" in row and "msPlayed" in row:
        return HistoryFormat.ACCOUNT
    return None


def is_account_podcast(row: dict[str, Any]) -> bool:
    """Account-data podcast files (`StreamingHistory_podcast_*`) name a show, not an artist."""
    return "podcastName" in row or "episodeName" in row


def parse_extended(row: dict[str, Any]) -> RowPlay | SkipReason:
    try:
        if row.get("episode_name") or row.get("spotify_episode_uri"):
            return SkipReason.PODCAST
        if (
            row.get("audiobook_title")
            or row.get("audiobook_uri")
            or row.get("audiobook_chapter_uri")
        ):
            return SkipReason.AUDIOBOOK
        if row.get("incognito_mode") is True:
            return SkipReason.INCOGNITO
        track = row.get("master_metadata_track_name")
        artist = row.get("master_metadata_album_artist_name")
        if not track or not artist or not isinstance(track, str) or not isinstance(artist, str):
            return SkipReason.NO_TRACK
        ms_played = row["ms_played"]
        if type(ms_played) is not int or ms_played < 0:
            return SkipReason.UNREADABLE
        if ms_played < MIN_MS_PLAYED:
            return SkipReason.SHORT
        ended = datetime.fromisoformat(row["ts"])
        album = row.get("master_metadata_album_album_name")
        uri = row.get("spotify_track_uri")
    except (KeyError, TypeError, ValueError):
        return SkipReason.UNREADABLE
    track_id = (
        uri[len(_TRACK_URI_PREFIX) :]
        if isinstance(uri, str) and uri.startswith(_TRACK_URI_PREFIX)
        else None
    )
    return RowPlay(
        _utc(ended) - timedelta(milliseconds=ms_played),
        ms_played,
        track,
        artist,
        album if isinstance(album, str) and album else None,
        track_id or None,
    )


def parse_account(row: dict[str, Any]) -> RowPlay | SkipReason:
    try:
        if is_account_podcast(row):
            return SkipReason.PODCAST
        track = row.get("trackName")
        artist = row.get("artistName")
        if (
            not isinstance(track, str)
            or not isinstance(artist, str)
            or not track
            or not artist
            or track in _UNKNOWN_NAMES
            or artist in _UNKNOWN_NAMES
        ):
            return SkipReason.NO_TRACK
        ms_played = row["msPlayed"]
        if type(ms_played) is not int or ms_played < 0:
            return SkipReason.UNREADABLE
        if ms_played < MIN_MS_PLAYED:
            return SkipReason.SHORT
        ended = datetime.fromisoformat(row["endTime"])
    except (KeyError, TypeError, ValueError):
        return SkipReason.UNREADABLE
    return RowPlay(
        _utc(ended) - timedelta(milliseconds=ms_played), ms_played, track, artist, None, None
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:  # what "...Z" parses to: the common case
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
