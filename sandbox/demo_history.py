"""A demo member's recent listening as Spotify's "Extended streaming history" file, drawn from
the Spotify sandbox's catalog (real track IDs and names), for the demo's `/import` step.

The plays fall on whole UTC days before today, inside one calendar year: this year, unless it
is too young to hold enough of them (the first days of January), then last year. A few days
are skipped, so the longest streak is not simply every day.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sandbox.spotify_catalog import CatalogData

DAYS = 45
PLAYS = 160
MIN_DAYS = 4
FILE_NAME = "Streaming_History_Audio_{year}_0.json"


@dataclass(frozen=True)
class DemoHistory:
    year: int
    file_name: str
    body: bytes
    plays: int
    plays_of: dict[str, int]  # track ID -> plays


def _days(today: date) -> list[date]:
    """The days the history covers: up to DAYS before today, in today's year when it has
    MIN_DAYS of them, else the end of last year."""
    first_of_year = date(today.year, 1, 1)
    if (today - first_of_year).days >= MIN_DAYS:
        start = max(today - timedelta(days=DAYS), first_of_year)
        end = today
    else:
        end = first_of_year
        start = end - timedelta(days=DAYS)
    return [start + timedelta(days=n) for n in range((end - start).days)]


def _row(catalog: CatalogData, track_id: str, ended: datetime, ms: int) -> dict[str, object]:
    track = catalog.tracks[track_id]
    return {
        "ts": ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "platform": "android",
        "ms_played": ms,
        "conn_country": "DE",
        "ip_addr": "198.51.100.7",
        "master_metadata_track_name": track.name,
        "master_metadata_album_artist_name": catalog.artists[track.artist_ids[0]].name,
        "master_metadata_album_album_name": catalog.albums[track.album_id].name,
        "spotify_track_uri": f"spotify:track:{track_id}",
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
        "audiobook_title": None,
        "audiobook_uri": None,
        "audiobook_chapter_uri": None,
        "audiobook_chapter_title": None,
        "reason_start": "trackdone",
        "reason_end": "trackdone",
        "shuffle": False,
        "skipped": False,
        "offline": False,
        "offline_timestamp": None,
        "incognito_mode": False,
    }


def demo_history(
    catalog: CatalogData,
    favourites: Sequence[str],
    now: datetime,
    *,
    also: Sequence[str] = (),
    seed: int = 7,
) -> DemoHistory:
    """About PLAYS plays of `favourites` (track IDs, best first, played most) and each of
    `also` now and then, on the days `_days` picks."""
    rng = random.Random(seed)
    days = _days(now.astimezone(UTC).date())
    skipped = {day for day in days[1:-1] if rng.random() < 0.15} if len(days) > 10 else set()
    played_days = [day for day in days if day not in skipped]
    per_day = -(-PLAYS // len(played_days))
    rows: list[dict[str, object]] = []
    plays_of: dict[str, int] = {}
    for day in played_days:
        moment = datetime(day.year, day.month, day.day, 7, tzinfo=UTC)
        for _ in range(rng.randint(max(per_day - 2, 1), per_day + 2)):
            if also and len(rows) % 9 == 4:
                track_id = also[(len(rows) // 9) % len(also)]
            else:
                track_id = favourites[int(len(favourites) * rng.random() ** 2)]
            length = catalog.tracks[track_id].duration_ms
            moment += timedelta(milliseconds=length + rng.randint(5_000, 120_000))
            rows.append(_row(catalog, track_id, moment, length))
            plays_of[track_id] = plays_of.get(track_id, 0) + 1
    year = played_days[0].year
    body = json.dumps(rows, indent=2).encode()
    return DemoHistory(year, FILE_NAME.format(year=year), body, len(rows), plays_of)
