"""Realistic Spotify streaming-history files for tests and benchmarks, deterministic per seed.

Writes the "Extended streaming history" (a ZIP of `Streaming_History_Audio_*.json` with a video
file and a PDF beside them, rows with every field Spotify writes) and the shorter "Account data"
history (`StreamingHistory_music_*.json`, `StreamingHistory_podcast_*.json`, `Userdata.json`).
Each writer returns what it wrote: how many rows, how many should count as plays, and how many
should be skipped for which reason (the values of `bot.services.imports.SkipReason`), decided
here when the row is made, not by the parser under test.

    python -m sandbox.history_files extended out.zip --plays 400000
    python -m sandbox.history_files account out.zip --plays 5000
"""

from __future__ import annotations

import argparse
import io
import json
import random
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

EXTENDED_FOLDER = "Spotify Extended Streaming History"
ACCOUNT_FOLDER = "Spotify Account Data"
START = datetime(2019, 1, 1, tzinfo=UTC)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "an", "el", "or", "us")
_UNICODE_NAMES = (
    "Beyoncé",
    "Sigur Rós",
    "坂本龍一",
    "Motörhead",
    "Ólafur Arnalds",
    "BTS 방탄소년단",
)
_PLATFORMS = ("android", "ios", "windows", "osx", "web_player")
_REASONS_END = ("trackdone", "fwdbtn", "endplay", "logout")
LONGEST_PLAY_MS = 420_000
"""The longest a generated track play lasts; each play starts at least this long after the one
before ended, so the plays store (which takes two plays of a track closer than the longer one's
ms for one listening, the track's length being unknown) keeps every counted play."""


@dataclass
class Written:
    """What a writer wrote: rows in history files, rows that should count, skips by reason."""

    path: Path
    rows: int = 0
    counted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Catalog:
    tracks: list[tuple[str, str, str, str]]  # track, artist, album, track id

    @classmethod
    def make(cls, rng: random.Random, artists: int = 400) -> _Catalog:
        tracks = []
        for index in range(artists):
            artist = (
                _UNICODE_NAMES[index]
                if index < len(_UNICODE_NAMES)
                else _name(rng, 2).title()
                + (" & The " + _name(rng, 2).title() if index % 7 else "")
            )
            for _ in range(rng.randint(2, 4)):
                album = _name(rng, 3).title()
                for _ in range(rng.randint(3, 6)):
                    track_id = "".join(rng.choice(_BASE62) for _ in range(22))
                    tracks.append(
                        (_name(rng, rng.randint(2, 5)).capitalize(), artist, album, track_id)
                    )
        return cls(tracks)

    def pick(self, rng: random.Random) -> tuple[str, str, str, str]:
        # a few favourites get most plays, as in anyone's history
        index = int(len(self.tracks) * rng.random() ** 3)
        return self.tracks[index]


def _name(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables))


def extended_rows(
    count: int, seed: int = 0, *, start: datetime = START
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """`count` extended-history rows in time order, each with the skip reason it should get
    (None: it counts as a play)."""
    rng = random.Random(seed)
    catalog = _Catalog.make(rng)
    moment = start
    for _ in range(count):
        track, artist, album, track_id = catalog.pick(rng)
        roll = rng.random()
        row: dict[str, Any] = {
            "ts": "",
            "platform": rng.choice(_PLATFORMS),
            "ms_played": 0,
            "conn_country": "DE",
            "ip_addr": f"198.51.100.{rng.randint(1, 254)}",
            "master_metadata_track_name": track,
            "master_metadata_album_artist_name": artist,
            "master_metadata_album_album_name": album,
            "spotify_track_uri": f"spotify:track:{track_id}",
            "episode_name": None,
            "episode_show_name": None,
            "spotify_episode_uri": None,
            "audiobook_title": None,
            "audiobook_uri": None,
            "audiobook_chapter_uri": None,
            "audiobook_chapter_title": None,
            "reason_start": "trackdone",
            "reason_end": rng.choice(_REASONS_END),
            "shuffle": rng.random() < 0.4,
            "skipped": False,
            "offline": False,
            "offline_timestamp": None,
            "incognito_mode": False,
        }
        ms_played = rng.randint(30_000, LONGEST_PLAY_MS)
        reason: str | None = None
        if roll < 0.04:
            reason = "podcast"
            _blank_track(row)
            row["episode_name"] = "Episode " + _name(rng, 3)
            row["episode_show_name"] = "The " + _name(rng, 2).title() + " Show"
            row["spotify_episode_uri"] = "spotify:episode:" + "".join(
                rng.choice(_BASE62) for _ in range(22)
            )
            ms_played = rng.randint(60_000, 3_600_000)
        elif roll < 0.05:
            reason = "audiobook"
            _blank_track(row)
            row["audiobook_title"] = _name(rng, 4).title()
            row["audiobook_uri"] = "spotify:show:" + "".join(rng.choice(_BASE62) for _ in range(22))
            row["audiobook_chapter_uri"] = "spotify:episode:" + "".join(
                rng.choice(_BASE62) for _ in range(22)
            )
            row["audiobook_chapter_title"] = "Chapter " + str(rng.randint(1, 40))
        elif roll < 0.06:
            reason = "no_track"  # a local file or a track Spotify no longer knows
            _blank_track(row)
        elif roll < 0.08:
            reason = "incognito"
            row["incognito_mode"] = True
        elif roll < 0.22:
            reason = "short"
            ms_played = rng.randint(0, 29_999)
            row["skipped"] = True
            row["reason_end"] = "fwdbtn"
        moment += timedelta(milliseconds=ms_played + rng.randint(0, 600_000) + LONGEST_PLAY_MS)
        row["ts"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        row["ms_played"] = ms_played
        yield row, reason


def _blank_track(row: dict[str, Any]) -> None:
    for key in (
        "master_metadata_track_name",
        "master_metadata_album_artist_name",
        "master_metadata_album_album_name",
        "spotify_track_uri",
    ):
        row[key] = None


def account_rows(
    count: int, seed: int = 0, *, start: datetime = START
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """`count` account-data music rows ("endTime" to the minute), each with its skip reason."""
    rng = random.Random(seed)
    catalog = _Catalog.make(rng)
    moment = start
    for _ in range(count):
        track, artist, _album, _track_id = catalog.pick(rng)
        roll = rng.random()
        reason: str | None = None
        ms_played = rng.randint(30_000, LONGEST_PLAY_MS)
        if roll < 0.02:
            reason = "no_track"
            track, artist = "Unknown Track", "Unknown Artist"
        elif roll < 0.16:
            reason = "short"
            ms_played = rng.randint(0, 29_999)
        moment += timedelta(milliseconds=ms_played + rng.randint(60_000, 600_000) + LONGEST_PLAY_MS)
        row = {
            "endTime": moment.strftime("%Y-%m-%d %H:%M"),
            "artistName": artist,
            "trackName": track,
            "msPlayed": ms_played,
        }
        yield row, reason


def podcast_rows(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    moment = START
    for _ in range(count):
        moment += timedelta(minutes=rng.randint(30, 600))
        yield {
            "endTime": moment.strftime("%Y-%m-%d %H:%M"),
            "podcastName": "The " + _name(rng, 2).title() + " Show",
            "episodeName": "Episode " + _name(rng, 3),
            "msPlayed": rng.randint(1_000, 3_600_000),
        }


def write_json_array(
    stream: IO[str], rows: Iterable[dict[str, Any]], *, indent: int | None = 4
) -> int:
    """Write `rows` as one JSON array the way Spotify does, one row at a time; returns the count."""
    written = 0
    stream.write("[")
    separator = "\n" if indent is not None else ""
    for row in rows:
        if written:
            stream.write(",")
        stream.write(separator)
        text = json.dumps(row, indent=indent, ensure_ascii=False)
        if indent:
            pad = " " * indent
            text = pad + text.replace("\n", "\n" + pad)
        stream.write(text)
        written += 1
    stream.write(separator + "]")
    return written


def _counted(
    written: Written, rows: Iterable[tuple[dict[str, Any], str | None]]
) -> Iterator[dict[str, Any]]:
    for row, reason in rows:
        written.rows += 1
        if reason is None:
            written.counted += 1
        else:
            written.skipped[reason] += 1
        yield row


def write_extended_json(
    path: Path, plays: int, *, seed: int = 0, indent: int | None = 4
) -> Written:
    written = Written(path)
    with path.open("w", encoding="utf-8") as stream:
        write_json_array(stream, _counted(written, extended_rows(plays, seed)), indent=indent)
    return written


def write_extended_zip(
    path: Path,
    plays: int,
    *,
    seed: int = 0,
    per_file: int = 15_000,
    videos: int = 3,
    compresslevel: int = 6,
) -> Written:
    """The ZIP Spotify e-mails: `plays` audio rows in files of `per_file`, a video history of
    `videos` rows and a PDF, in Spotify's folder."""
    written = Written(path)
    rows = _counted(written, extended_rows(plays, seed))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr(
            f"{EXTENDED_FOLDER}/ReadMeFirst_ExtendedStreamingHistory.pdf", b"%PDF-1.4\n%fake\n"
        )
        part = 0
        remaining = plays
        while remaining > 0 or part == 0:
            size = min(per_file, remaining)
            name = f"{EXTENDED_FOLDER}/Streaming_History_Audio_2019-2024_{part}.json"
            with archive.open(name, "w", force_zip64=True) as raw, _text(raw) as stream:
                write_json_array(stream, (next(rows) for _ in range(size)))
            remaining -= size
            part += 1
        if videos:
            rng = random.Random(seed + 1)
            video_rows = [
                {
                    "ts": "2021-05-01T10:00:00Z",
                    "ms_played": rng.randint(1_000, 600_000),
                    "video_title": "Clip",
                }
                for _ in range(videos)
            ]
            written.skipped["video"] += videos
            written.rows += videos
            with (
                archive.open(
                    f"{EXTENDED_FOLDER}/Streaming_History_Video_2019-2024.json", "w"
                ) as raw,
                _text(raw) as stream,
            ):
                write_json_array(stream, video_rows)
    return written


def write_account_zip(
    path: Path, plays: int, *, seed: int = 0, per_file: int = 10_000, podcasts: int = 20
) -> Written:
    """The "Account data" ZIP: music history in files of `per_file`, a podcast history and
    other account files that are not history."""
    written = Written(path)
    rows = _counted(written, account_rows(plays, seed))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            f"{ACCOUNT_FOLDER}/Userdata.json", json.dumps({"username": "someone", "country": "DE"})
        )
        archive.writestr(f"{ACCOUNT_FOLDER}/Playlist1.json", json.dumps({"playlists": []}))
        part = 0
        remaining = plays
        while remaining > 0 or part == 0:
            size = min(per_file, remaining)
            with (
                archive.open(f"{ACCOUNT_FOLDER}/StreamingHistory_music_{part}.json", "w") as raw,
                _text(raw) as stream,
            ):
                write_json_array(stream, (next(rows) for _ in range(size)), indent=2)
            remaining -= size
            part += 1
        if podcasts:
            written.skipped["podcast"] += podcasts
            written.rows += podcasts
            with (
                archive.open(f"{ACCOUNT_FOLDER}/StreamingHistory_podcast_0.json", "w") as raw,
                _text(raw) as stream,
            ):
                write_json_array(stream, podcast_rows(podcasts, seed), indent=2)
    return written


def write_account_json(path: Path, plays: int, *, seed: int = 0) -> Written:
    written = Written(path)
    with path.open("w", encoding="utf-8") as stream:
        write_json_array(stream, _counted(written, account_rows(plays, seed)), indent=2)
    return written


def _text(raw: IO[bytes]) -> io.TextIOWrapper:
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("format", choices=("extended", "account"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--plays", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    writer = write_extended_zip if args.format == "extended" else write_account_zip
    written = writer(args.path, args.plays, seed=args.seed)
    skipped = dict(written.skipped)
    print(f"{written.path}: {written.rows:,} rows, {written.counted:,} plays, skipped {skipped}")


if __name__ == "__main__":
    main()
