"""/wrapped: a member's year in plays (bot/store/wrapped.py), and the art its card shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.db.engine import Sessions
from bot.domain import InvalidInput, ItemKind, NotEnoughPlays
from bot.services.artwork import ArtworkFetcher
from bot.store import wrapped as store
from bot.store.wrapped import BusiestWeekday, NewArtists, Streak, YearDays, YearItem

MIN_PLAYS = 50
FIRST_YEAR = 2008
"""Spotify opened in October 2008: no play of any source is older."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Wrapped:
    discord_user_id: int
    year: int
    plays: int
    ms_played: int
    top_artists: list[YearItem]
    top_tracks: list[YearItem]
    top_album: YearItem | None
    streak: Streak | None
    busiest: BusiestWeekday | None
    new_artists: NewArtists

    @property
    def minutes(self) -> int:
        return self.ms_played // 60_000


@dataclass(frozen=True)
class WrappedArt:
    """Image bytes for the card, parallel to the top lists; None draws a placeholder."""

    artists: list[bytes | None]
    tracks: list[bytes | None]
    album: bytes | None


class WrappedService:
    def __init__(
        self,
        sessions: Sessions,
        artwork: ArtworkFetcher,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._sessions = sessions
        self._artwork = artwork
        self._clock = clock

    def year(self, asked: int | None) -> int:
        """The year a /wrapped asks for (this UTC year when none); InvalidInput outside
        FIRST_YEAR..this year."""
        this_year = self._clock().year
        if asked is None:
            return this_year
        if not FIRST_YEAR <= asked <= this_year:
            raise InvalidInput(f"Pick a year from {FIRST_YEAR} to {this_year}.")
        return asked

    async def wrapped(self, discord_user_id: int, year: int) -> Wrapped:
        """The member's year; NotEnoughPlays below MIN_PLAYS plays in it."""
        span = YearDays.of(year)
        async with self._sessions() as session:
            days = await store.days_played(session, discord_user_id, span)
            plays = sum(day.plays for day in days)
            if plays < MIN_PLAYS:
                raise NotEnoughPlays(year, plays, MIN_PLAYS)
            artists = await store.year_top(session, discord_user_id, ItemKind.ARTIST, span)
            tracks = await store.year_top(session, discord_user_id, ItemKind.TRACK, span)
            albums = await store.year_top(session, discord_user_id, ItemKind.ALBUM, span, 1)
            new = await store.new_artists(session, discord_user_id, span)
        return Wrapped(
            discord_user_id=discord_user_id,
            year=year,
            plays=plays,
            ms_played=sum(day.ms_played for day in days),
            top_artists=artists,
            top_tracks=tracks,
            top_album=albums[0] if albums else None,
            streak=store.longest_streak(days),
            busiest=store.busiest_weekday(days),
            new_artists=new,
        )

    async def art(self, wrapped: Wrapped) -> WrappedArt:
        """Every image of the card, fetched concurrently (the fetcher caches and bounds them)."""
        album = wrapped.top_album.item.image_url if wrapped.top_album else None
        images = await self._artwork.fetch_all(
            [
                *(entry.item.image_url for entry in wrapped.top_artists),
                *(entry.item.image_url for entry in wrapped.top_tracks),
                album,
            ]
        )
        artists = len(wrapped.top_artists)
        return WrappedArt(
            artists=images[:artists],
            tracks=images[artists:-1],
            album=images[-1],
        )
