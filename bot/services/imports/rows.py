"""One row of a Spotify history file: which format it is in, and the play it stands for or why
it does not count.

Extended streaming history rows (`Streaming_History_Audio_*.json`) end at `ts` (UTC) and say
whether the play was a track, a podcast episode or an audiobook chapter; account-data rows
(`StreamingHistory_music_*.json`) end at `endTime` ("YYYY-MM-DD HH:MM", UTC). Either way the
play started at its end minus `ms_played`. Unknown fields are ignored.

Rows are decoded straight into `HistoryRow` (msgspec reads only the fields named there and
skips the rest without building them); a field missing from a row is `UNSET`, a JSON null is
None, and a value of an unexpected type is kept as it is for the parser to judge.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from msgspec import UNSET

from bot.domain import HistoryPlay

MIN_MS_PLAYED = 30_000
_TRACK_URI_PREFIX = "spotify:track:"
_TRACK_URI_PREFIX_LENGTH = len(_TRACK_URI_PREFIX)
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


RowPlay = HistoryPlay
"""The parts of a play a history row holds."""


def _play(values: tuple[datetime, int, str, str, str | None, str | None]) -> RowPlay:
    """A `RowPlay` from its values in order, without the keyword handling of its
    constructor (a row is parsed some hundred thousand times an import)."""
    return tuple.__new__(RowPlay, values)


class HistoryRow(msgspec.Struct):
    """The fields of either format that the parser reads (JSON keys as they are)."""

    # extended streaming history
    ts: Any = UNSET
    ms_played: Any = UNSET
    master_metadata_track_name: Any = None
    master_metadata_album_artist_name: Any = None
    master_metadata_album_album_name: Any = None
    spotify_track_uri: Any = None
    episode_name: Any = None
    spotify_episode_uri: Any = None
    audiobook_title: Any = None
    audiobook_uri: Any = None
    audiobook_chapter_uri: Any = None
    incognito_mode: Any = None
    # account data
    endTime: Any = UNSET  # field names are the JSON keys
    msPlayed: Any = UNSET
    trackName: Any = None
    artistName: Any = None
    podcastName: Any = UNSET
    episodeName: Any = UNSET


def as_row(obj: dict[str, Any]) -> HistoryRow:
    """A row decoded as a plain JSON object, as `HistoryRow`."""
    return msgspec.convert(obj, HistoryRow)


def detect_format(row: HistoryRow) -> HistoryFormat | None:
    """The format a history file's first row is in, or None when it is neither."""
    if row.ts is not UNSET and row.ms_played is not UNSET:
        return HistoryFormat.EXTENDED
    if row.endTime is not UNSET and row.msPlayed is not UNSET:
        return HistoryFormat.ACCOUNT
    return None


def is_account_podcast(row: HistoryRow) -> bool:
    """Account-data podcast files (`StreamingHistory_podcast_*`) name a show, not an artist."""
    return row.podcastName is not UNSET or row.episodeName is not UNSET


def parse_extended(row: HistoryRow) -> RowPlay | SkipReason:
    try:
        if row.episode_name or row.spotify_episode_uri:
            return SkipReason.PODCAST
        if row.audiobook_title or row.audiobook_uri or row.audiobook_chapter_uri:
            return SkipReason.AUDIOBOOK
        if row.incognito_mode is True:
            return SkipReason.INCOGNITO
        track = row.master_metadata_track_name
        artist = row.master_metadata_album_artist_name
        if not (track and artist and type(track) is str and type(artist) is str):
            return SkipReason.NO_TRACK
        ms_played = row.ms_played
        if type(ms_played) is not int or ms_played < 0:
            return SkipReason.UNREADABLE
        if ms_played < MIN_MS_PLAYED:
            return SkipReason.SHORT
        ended = datetime.fromisoformat(row.ts)
        album = row.master_metadata_album_album_name
        uri = row.spotify_track_uri
    except (TypeError, ValueError):
        return SkipReason.UNREADABLE
    track_id = (
        uri[_TRACK_URI_PREFIX_LENGTH:]
        if type(uri) is str and uri.startswith(_TRACK_URI_PREFIX)
        else None
    )
    if ended.tzinfo is not UTC:
        ended = _utc(ended)
    return _play(
        (
            ended - timedelta(0, 0, 0, ms_played),
            ms_played,
            track,
            artist,
            album if type(album) is str and album else None,
            track_id or None,
        )
    )


def parse_account(row: HistoryRow) -> RowPlay | SkipReason:
    try:
        if is_account_podcast(row):
            return SkipReason.PODCAST
        track = row.trackName
        artist = row.artistName
        if (
            not isinstance(track, str)
            or not isinstance(artist, str)
            or not track
            or not artist
            or track in _UNKNOWN_NAMES
            or artist in _UNKNOWN_NAMES
        ):
            return SkipReason.NO_TRACK
        ms_played = row.msPlayed
        if type(ms_played) is not int or ms_played < 0:
            return SkipReason.UNREADABLE
        if ms_played < MIN_MS_PLAYED:
            return SkipReason.SHORT
        ended = datetime.fromisoformat(row.endTime)
    except (TypeError, ValueError):
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
