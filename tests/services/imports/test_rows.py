from datetime import UTC, datetime
from typing import Any

import pytest

from bot.services.imports.rows import (
    HistoryFormat,
    RowPlay,
    SkipReason,
    as_row,
    detect_format,
    parse_account,
    parse_extended,
)


def extended(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ts": "2021-03-04T17:12:33Z",
        "platform": "android",
        "ms_played": 200_000,
        "master_metadata_track_name": "Hyperballad",
        "master_metadata_album_artist_name": "Björk",
        "master_metadata_album_album_name": "Post",
        "spotify_track_uri": "spotify:track:4uLU6hMCjMI75M1A2tKUQC",
        "episode_name": None,
        "spotify_episode_uri": None,
        "audiobook_title": None,
        "audiobook_chapter_uri": None,
        "skipped": False,
        "incognito_mode": False,
        "a_field_spotify_adds_next_year": {"x": 1},
    }
    row.update(changes)
    return row


def test_an_extended_row_starts_its_play_ms_played_before_its_end() -> None:
    assert parse_extended(as_row(extended())) == RowPlay(
        datetime(2021, 3, 4, 17, 9, 13, tzinfo=UTC),
        200_000,
        "Hyperballad",
        "Björk",
        "Post",
        "4uLU6hMCjMI75M1A2tKUQC",
    )


def test_an_account_row_ends_at_its_minute_in_utc() -> None:
    row = {
        "endTime": "2023-01-05 13:45",
        "artistName": "Björk",
        "trackName": "Joga",
        "msPlayed": 60_000,
    }
    assert parse_account(as_row(row)) == RowPlay(
        datetime(2023, 1, 5, 13, 44, tzinfo=UTC), 60_000, "Joga", "Björk", None, None
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"ms_played": 29_999}, SkipReason.SHORT),
        ({"episode_name": "Ep. 1", "spotify_episode_uri": "spotify:episode:x"}, SkipReason.PODCAST),
        (
            {"audiobook_title": "Book", "audiobook_chapter_uri": "spotify:episode:y"},
            SkipReason.AUDIOBOOK,
        ),
        ({"incognito_mode": True}, SkipReason.INCOGNITO),
        ({"master_metadata_track_name": None}, SkipReason.NO_TRACK),
        ({"master_metadata_album_artist_name": None}, SkipReason.NO_TRACK),
        ({"ms_played": "lots"}, SkipReason.UNREADABLE),
        ({"ts": "yesterday"}, SkipReason.UNREADABLE),
    ],
)
def test_extended_rows_that_do_not_count(changes: dict[str, Any], reason: SkipReason) -> None:
    assert parse_extended(as_row(extended(**changes))) is reason


def test_exactly_thirty_seconds_counts() -> None:
    assert isinstance(parse_extended(as_row(extended(ms_played=30_000))), RowPlay)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            {"endTime": "2023-01-05 13:45", "artistName": "A", "trackName": "T", "msPlayed": 10},
            SkipReason.SHORT,
        ),
        (
            {
                "endTime": "2023-01-05 13:45",
                "artistName": "Unknown Artist",
                "trackName": "Unknown Track",
                "msPlayed": 90_000,
            },
            SkipReason.NO_TRACK,
        ),
        (
            {
                "endTime": "2023-01-05 13:45",
                "podcastName": "Show",
                "episodeName": "E",
                "msPlayed": 90_000,
            },
            SkipReason.PODCAST,
        ),
        (
            {"endTime": "soon", "artistName": "A", "trackName": "T", "msPlayed": 90_000},
            SkipReason.UNREADABLE,
        ),
    ],
)
def test_account_rows_that_do_not_count(row: dict[str, Any], reason: SkipReason) -> None:
    assert parse_account(as_row(row)) is reason


def test_formats_are_told_apart_by_their_fields() -> None:
    assert detect_format(as_row(extended())) is HistoryFormat.EXTENDED
    assert detect_format(as_row({"endTime": "x", "msPlayed": 1})) is HistoryFormat.ACCOUNT
    assert detect_format(as_row({"name": "a playlist", "items": []})) is None
