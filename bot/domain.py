"""Domain types every layer may import: item kinds, time ranges, link status and the errors a
member can act on. The ORM stores these; it does not define them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

TimeRangeName = Literal["short_term", "medium_term", "long_term"]


class LinkStatus(enum.StrEnum):
    ACTIVE = "active"
    BROKEN = "broken"  # tokens no longer decrypt (key lost or rotated away)
    REVOKED = "revoked"  # Spotify answered invalid_grant: the member must /link again
    NOT_ALLOWED = "not_allowed"  # Development Mode: not on the app's allow-list


class ItemKind(enum.IntEnum):
    ARTIST = 1
    TRACK = 2
    ALBUM = 3


class TimeRange(enum.IntEnum):
    """Spotify's top-list periods; the value is the stored code, `api_name` what Spotify takes."""

    SHORT = 1
    MEDIUM = 2
    LONG = 3

    @property
    def api_name(self) -> TimeRangeName:
        return _API_NAMES[self]

    @property
    def words(self) -> str:
        return _WORDS[self]

    @classmethod
    def from_name(cls, name: str) -> TimeRange:
        """The range for Spotify's name of it ("short_term", ...); ValueError for anything else."""
        for time_range, api_name in _API_NAMES.items():
            if api_name == name:
                return time_range
        raise ValueError(f"unknown time range {name!r}")


_API_NAMES: dict[TimeRange, TimeRangeName] = {
    TimeRange.SHORT: "short_term",
    TimeRange.MEDIUM: "medium_term",
    TimeRange.LONG: "long_term",
}
_WORDS: dict[TimeRange, str] = {
    TimeRange.SHORT: "last 4 weeks",
    TimeRange.MEDIUM: "last 6 months",
    TimeRange.LONG: "last year",
}
DEFAULT_TIME_RANGE = TimeRange.MEDIUM


class ServiceError(Exception):
    """Base of every error the services raise on purpose."""


class NotLinked(ServiceError):
    """The invoking member has not linked a Spotify account."""


class LinkBroken(ServiceError):
    """The member's stored link can no longer be used (tokens refused or unreadable)."""


class MemberHidden(ServiceError):
    """The member asked about keeps their Spotify activity private in this server."""


class MemberNotLinked(ServiceError):
    """The member asked about has not linked a Spotify account."""


class NotAMember(ServiceError):
    """The member asked about is not a current member of the server the command runs in."""


class InvalidInput(ServiceError):
    """An option value the member gave cannot be used; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooFast(ServiceError):
    """The member did this too often just now; `retry_after` seconds until they may again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too fast; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


class Period(enum.StrEnum):
    """The plays basis of rankings: a rolling window of days ending today, or all time."""

    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    ALL = "all"

    @property
    def days(self) -> int | None:
        return _PERIOD_DAYS[self]

    @property
    def words(self) -> str:
        days = self.days
        return "all time" if days is None else f"last {days} days"


_PERIOD_DAYS: dict[Period, int | None] = {
    Period.WEEK: 7,
    Period.MONTH: 30,
    Period.YEAR: 365,
    Period.ALL: None,
}
DEFAULT_PERIOD = Period.MONTH


class RecordingOff(ServiceError):
    """The member switched recording of their listening off, so nothing is imported."""


class NotEnoughPlays(ServiceError):
    """Too few plays in a year for a /wrapped card: `plays` of the `needed`."""

    def __init__(self, year: int, plays: int, needed: int) -> None:
        super().__init__(f"{plays} plays in {year}, {needed} needed")
        self.year = year
        self.plays = plays
        self.needed = needed


class PlaySource(enum.IntEnum):
    """Where a play was heard; the value is the stored code."""

    PRESENCE = 1
    RECENTLY_PLAYED = 2
    IMPORT = 3


@dataclass(frozen=True, slots=True)
class PlayIn:
    """A play as a source saw it, before it is stored."""

    discord_user_id: int
    started_at: datetime  # UTC-aware
    ms_played: int
    source: PlaySource
    track_name: str
    artist_names: tuple[str, ...]  # display names, in order
    album_name: str | None = None
    track_id: str | None = None  # Spotify base62 ids when known
    artist_ids: tuple[str, ...] = ()  # same order as artist_names when known
    album_id: str | None = None
    duration_ms: int | None = None
    image_url: str | None = None


class HistoryPlay(NamedTuple):
    """A play read from a member's streaming-history file (source `PlaySource.IMPORT`): its
    track by names (one artist) and Spotify ID when the file has one. A tuple, not a `PlayIn`:
    an import reads hundreds of thousands, and a frozen dataclass costs ten times more to make."""

    started_at: datetime  # UTC-aware
    ms_played: int
    track_name: str
    artist_name: str
    album_name: str | None
    track_id: str | None


@dataclass(frozen=True, slots=True)
class SpotifyActivity:
    """A member's Spotify activity as Discord shows it, reduced to what Encore keeps."""

    track_id: str
    title: str
    artists: tuple[str, ...]
    album: str | None
    cover_url: str | None
    start_ms: int  # Unix ms: when the track would have started, played without pause
    end_ms: int  # Unix ms: when it ends

    @property
    def duration_ms(self) -> int:
        return max(0, self.end_ms - self.start_ms)
