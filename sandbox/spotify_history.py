"""What a sandbox user listened to: the last plays (Spotify keeps 50) and what plays now."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

RECENT_PLAYS_KEPT = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_CONTEXT_KINDS = ("album", "artist", "playlist", "show")


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def from_epoch_ms(ms: int) -> datetime:
    return _EPOCH + ms * _MS


@dataclass(frozen=True)
class Play:
    track_id: str
    played_at: datetime
    """What Spotify reports as `played_at`, to the millisecond."""
    context_uri: str | None = None

    @property
    def cursor(self) -> int:
        return epoch_ms(self.played_at)


@dataclass
class NowPlaying:
    track_id: str
    duration_ms: int
    started_ms: int
    """Unix ms at which the track was at progress 0 (while playing)."""
    is_playing: bool = True
    paused_progress_ms: int = 0
    context_uri: str | None = None

    def progress_ms(self, now_ms: int) -> int:
        if not self.is_playing:
            return self.paused_progress_ms
        return max(0, min(self.duration_ms, now_ms - self.started_ms))


@dataclass
class Listening:
    """One user's listening: the last plays (oldest first) and what plays now."""

    plays: list[Play] = field(default_factory=list)
    now: NowPlaying | None = None

    def add(self, play: Play) -> None:
        cursors = [item.cursor for item in self.plays]
        self.plays.insert(bisect.bisect_right(cursors, play.cursor), play)
        del self.plays[:-RECENT_PLAYS_KEPT]


def check_context_uri(uri: str | None) -> None:
    if uri is None:
        return
    parts = uri.split(":")
    if len(parts) != 3 or parts[0] != "spotify" or parts[1] not in _CONTEXT_KINDS:
        raise ValueError(f"not a context URI: {uri!r}")
