"""WrappedService: the year option's bounds, the 50-play threshold, and which art goes where."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.domain import InvalidInput, NotEnoughPlays, PlayIn, PlaySource
from bot.services.artwork import ArtworkFetcher
from bot.services.wrapped import FIRST_YEAR, MIN_PLAYS, WrappedService
from bot.store.plays import record_plays

USER = 7
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)


class EchoArtwork(ArtworkFetcher):
    """Answers each URL with its own bytes, without any HTTP."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    async def fetch(self, url: str | None) -> bytes | None:
        self.asked.append(url)
        return url.encode() if url else None


def service(sessions: async_sessionmaker[AsyncSession]) -> WrappedService:
    return WrappedService(sessions, EchoArtwork(), clock=lambda: NOW)


SHARES = {1: 20, 0: 15, 2: 12, 3: 10, 4: 8, 5: 5}  # plays per track, 70 in all
ORDER = [track for track, plays in SHARES.items() for _ in range(plays)]


def track_of(i: int) -> int:
    return ORDER[i % len(ORDER)]


async def played(sessions: async_sessionmaker[AsyncSession], count: int, year: int = 2026) -> None:
    """`count` plays 10 minutes apart; track 0 (and its album) has no art."""
    start = datetime(year, 2, 1, tzinfo=UTC)
    plays = [
        PlayIn(
            discord_user_id=USER,
            started_at=start + timedelta(minutes=10 * i),
            ms_played=120_000,
            source=PlaySource.IMPORT,
            track_name=f"Track {track_of(i)}",
            artist_names=(f"Artist {track_of(i) % 3}",),
            album_name=f"Album {track_of(i)}",
            duration_ms=120_000,
            image_url=f"http://art/{track_of(i)}" if track_of(i) else None,
        )
        for i in range(count)
    ]
    async with session_scope(sessions, shared_writes=True) as session:
        await record_plays(session, plays)


def test_the_year_defaults_to_this_utc_year_and_stays_in_spotifys_lifetime(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    wrapped = service(db_sessions)
    assert wrapped.year(None) == 2026
    assert wrapped.year(FIRST_YEAR) == FIRST_YEAR == 2008
    assert wrapped.year(2026) == 2026
    for year in (2007, 2027, -1, 0):
        with pytest.raises(InvalidInput, match="Pick a year from 2008 to 2026"):
            wrapped.year(year)


async def test_fewer_than_fifty_plays_in_the_year_is_not_enough(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await played(db_sessions, MIN_PLAYS - 1)
    await played(db_sessions, 80, year=2025)  # another year's plays do not help
    with pytest.raises(NotEnoughPlays) as refused:
        await service(db_sessions).wrapped(USER, 2026)
    assert (refused.value.year, refused.value.plays, refused.value.needed) == (2026, 49, 50)

    await played(db_sessions, MIN_PLAYS)  # the same 49 again (duplicates) and one more
    found = await service(db_sessions).wrapped(USER, 2026)
    assert (found.plays, found.minutes) == (50, 100)


async def test_the_art_follows_the_top_lists(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await played(db_sessions, 70)
    wrapped = service(db_sessions)
    found = await wrapped.wrapped(USER, 2026)
    art = await wrapped.art(found)
    assert [t.item.name for t in found.top_tracks] == [f"Track {n}" for n in (1, 0, 2, 3, 4)]
    assert art.tracks == [b"http://art/1", None, b"http://art/2", b"http://art/3", b"http://art/4"]
    # plays name artists without pictures: each shows the cover of their most played track
    # that has one (Artist 0's Track 0 has none, so its Track 3)
    assert [a.item.name for a in found.top_artists] == ["Artist 1", "Artist 0", "Artist 2"]
    assert art.artists == [b"http://art/1", b"http://art/3", b"http://art/2"]
    assert found.top_album is not None and found.top_album.item.name == "Album 1"
    assert art.album == b"http://art/1"
