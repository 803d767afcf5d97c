"""The demo's imported history: enough plays inside one calendar year, whatever the date."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.services.wrapped import MIN_PLAYS
from sandbox.demo_history import demo_history
from sandbox.spotify import SpotifySandbox


@pytest.mark.parametrize(
    ("now", "year"),
    [
        (datetime(2026, 12, 5, 3, tzinfo=UTC), 2026),
        (datetime(2027, 1, 9, 0, 1, tzinfo=UTC), 2027),
        (datetime(2027, 1, 5, 12, tzinfo=UTC), 2027),  # four whole days of the year so far
        (datetime(2027, 1, 2, 12, tzinfo=UTC), 2026),  # too young: last year's end
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), 2026),
    ],
)
def test_plays_fall_before_today_inside_one_year(now: datetime, year: int) -> None:
    catalog = SpotifySandbox().catalog
    favourites = list(catalog.tracks)[10:30]
    heard = list(catalog.tracks)[:3]
    history = demo_history(catalog.data, favourites, now, also=heard)
    rows = json.loads(history.body)
    assert history.year == year and str(year) in history.file_name
    assert len(rows) == history.plays >= MIN_PLAYS
    ends = [datetime.strptime(row["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) for row in rows]
    starts = [
        end - timedelta(milliseconds=row["ms_played"]) for end, row in zip(ends, rows, strict=True)
    ]
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert all(start.year == year and end < today for start, end in zip(starts, ends, strict=True))
    # one listening at a time, so the plays store keeps every one of them
    assert all(later >= earlier for earlier, later in zip(ends[:-1], starts[1:], strict=True))
    assert set(history.plays_of) <= set(favourites) | set(heard)
    assert all(track in history.plays_of for track in heard)
    assert sum(history.plays_of.values()) == history.plays
