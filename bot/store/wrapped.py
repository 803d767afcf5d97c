"""A member's year in plays, for /wrapped: totals, top items, streak, busiest weekday, and the
artists first heard that year.

Everything reads the member's `play_days` rows (bot/store/plays.py), never raw plays: a year is
at most 366 days x the items played each day, one range of the table's key (user, kind, day,
item). A year is a UTC calendar year, like the aggregates' days. Totals count the track rows
(a play counts once for its track, once per credited artist): plays and minutes of music.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import CatalogItem, CatalogTrack, PlayDay, TrackArtist
from bot.domain import ItemKind
from bot.store.plays import EPOCH, PlayedItem, _played_item, day_of

TOP_ITEMS = 5
NEW_ARTIST_NAMES = 3


@dataclass(frozen=True)
class YearDays:
    """The UTC day numbers (days since 1970-01-01) a calendar year spans, both included."""

    year: int
    first: int
    last: int

    @classmethod
    def of(cls, year: int) -> YearDays:
        return cls(year, day_of(date(year, 1, 1)), day_of(date(year, 12, 31)))


@dataclass(frozen=True)
class DayPlays:
    day: int
    plays: int
    ms_played: int

    @property
    def date(self) -> date:
        return EPOCH + timedelta(days=self.day)


@dataclass(frozen=True)
class YearItem:
    item: PlayedItem
    plays: int
    ms_played: int


@dataclass(frozen=True)
class Streak:
    days: int
    first: date
    last: date


@dataclass(frozen=True)
class BusiestWeekday:
    weekday: int  # 0 Monday ... 6 Sunday, as date.weekday()
    plays: int


@dataclass(frozen=True)
class NewArtists:
    count: int
    names: list[str]  # the most played of them this year, at most NEW_ARTIST_NAMES


def _in_year(discord_user_id: int, kind: ItemKind, year: YearDays) -> list[ColumnElement[bool]]:
    return [
        PlayDay.discord_user_id == discord_user_id,
        PlayDay.kind == int(kind),
        PlayDay.day >= year.first,
        PlayDay.day <= year.last,
    ]


async def days_played(
    session: AsyncSession, discord_user_id: int, year: YearDays
) -> list[DayPlays]:
    """The member's plays and ms on each UTC day of the year they played, in day order."""
    rows = await session.execute(
        select(PlayDay.day, func.sum(PlayDay.plays), func.sum(PlayDay.ms_played))
        .where(*_in_year(discord_user_id, ItemKind.TRACK, year))
        .group_by(PlayDay.day)
        .order_by(PlayDay.day)
    )
    return [DayPlays(int(day), int(plays), int(ms)) for day, plays, ms in rows]


def longest_streak(days: list[DayPlays]) -> Streak | None:
    """The longest run of consecutive days with a play (the earliest of equally long runs);
    `days` in day order, as `days_played` gives them."""
    best: Streak | None = None
    start = previous = -2
    for entry in days:
        if entry.day != previous + 1:
            start = entry.day
        previous = entry.day
        length = entry.day - start + 1
        if best is None or length > best.days:
            best = Streak(length, EPOCH + timedelta(days=start), entry.date)
    return best


def busiest_weekday(days: list[DayPlays]) -> BusiestWeekday | None:
    """The weekday (UTC) with the most plays over the year; ties go to the earlier weekday
    (Monday first)."""
    per_weekday: Counter[int] = Counter()
    for entry in days:
        per_weekday[entry.date.weekday()] += entry.plays
    if not per_weekday:
        return None
    weekday = min(per_weekday, key=lambda day: (-per_weekday[day], day))
    return BusiestWeekday(weekday, per_weekday[weekday])


async def year_top(
    session: AsyncSession,
    discord_user_id: int,
    kind: ItemKind,
    year: YearDays,
    limit: int = TOP_ITEMS,
) -> list[YearItem]:
    """The member's most played items of `kind` in the year: most plays, then most ms, then
    catalog id. An item without art of its own shows a cover it was played with
    (`_covers_heard`)."""
    plays = func.sum(PlayDay.plays).label("plays")
    ms = func.sum(PlayDay.ms_played).label("ms")
    ranked = (
        select(PlayDay.item_id, plays, ms)
        .where(*_in_year(discord_user_id, kind, year))
        .group_by(PlayDay.item_id)
        .order_by(plays.desc(), ms.desc(), PlayDay.item_id)
        .limit(limit)
        .subquery()
    )
    rows = (
        await session.execute(
            select(CatalogItem, ranked.c.plays, ranked.c.ms)
            .join(ranked, ranked.c.item_id == CatalogItem.id)
            .order_by(ranked.c.plays.desc(), ranked.c.ms.desc(), CatalogItem.id)
        )
    ).all()
    found = [YearItem(_played_item(row), int(p), int(m)) for row, p, m in rows]
    bare = [entry.item.item_id for entry in found if entry.item.image_url is None]
    if not bare:
        return found
    covers = await _covers_heard(session, discord_user_id, kind, year, bare)
    return [
        replace(entry, item=replace(entry.item, image_url=covers[entry.item.item_id]))
        if entry.item.image_url is None and entry.item.item_id in covers
        else entry
        for entry in found
    ]


async def _covers_heard(
    session: AsyncSession, discord_user_id: int, kind: ItemKind, year: YearDays, items: list[int]
) -> dict[int, str]:
    """For items without art: the cover of the track the member played most that year among
    those of the item (a track's album cover, an artist's or album's tracks' covers). Plays
    from Discord status and imports name artists without pictures, so this is what most
    artists show. Three small reads: the items' tracks, the member's plays of those in the
    year (one range of the member's day rows), and their covers."""
    owned: Select[int, int | None]
    if kind is ItemKind.ARTIST:
        owned = select(TrackArtist.track_item_id, TrackArtist.artist_item_id).where(
            TrackArtist.artist_item_id.in_(items)
        )
    elif kind is ItemKind.ALBUM:
        owned = select(CatalogTrack.item_id, CatalogTrack.album_item_id).where(
            CatalogTrack.album_item_id.in_(items)
        )
    else:
        owned = select(CatalogTrack.item_id, CatalogTrack.item_id).where(
            CatalogTrack.item_id.in_(items)
        )
    owners: dict[int, list[int]] = {}
    for track_id, owner in await session.execute(owned):
        if owner is not None:
            owners.setdefault(int(track_id), []).append(int(owner))
    if not owners:
        return {}
    heard = dict(
        (int(track_id), int(plays))
        for track_id, plays in await session.execute(
            select(PlayDay.item_id, func.sum(PlayDay.plays))
            .where(
                *_in_year(discord_user_id, ItemKind.TRACK, year),
                PlayDay.item_id.in_(list(owners)),
            )
            .group_by(PlayDay.item_id)
        )
    )
    if not heard:
        return {}
    track = aliased(CatalogItem)
    album = aliased(CatalogItem)
    images = await session.execute(
        select(track.id, func.coalesce(track.image_url, album.image_url))
        .outerjoin(CatalogTrack, CatalogTrack.item_id == track.id)
        .outerjoin(album, album.id == CatalogTrack.album_item_id)
        .where(track.id.in_(list(heard)))
    )
    image_of = {int(track_id): image for track_id, image in images if image}
    covers: dict[int, str] = {}
    for track_id in sorted(image_of, key=lambda t: (-heard[t], t)):
        for owner in owners[track_id]:
            covers.setdefault(owner, image_of[track_id])
    return covers


async def new_artists(
    session: AsyncSession,
    discord_user_id: int,
    year: YearDays,
    names: int = NEW_ARTIST_NAMES,
) -> NewArtists:
    """Artists the member first played in the year (their first play day of all time falls in
    it): how many, and the names of the most played of them that year. Reads the member's artist
    day rows up to the year's end (one key range): a few thousand per year of history."""
    plays = func.sum(PlayDay.plays).label("plays")
    rows = await session.execute(
        select(PlayDay.item_id, plays)
        .where(
            PlayDay.discord_user_id == discord_user_id,
            PlayDay.kind == int(ItemKind.ARTIST),
            PlayDay.day <= year.last,
        )
        .group_by(PlayDay.item_id)
        .having(func.min(PlayDay.day) >= year.first)
        .order_by(plays.desc(), PlayDay.item_id)
    )
    ids = [int(item_id) for item_id, _ in rows]
    if not ids:
        return NewArtists(0, [])
    picked = ids[:names]
    found = await session.execute(
        select(CatalogItem.id, CatalogItem.name).where(CatalogItem.id.in_(picked))
    )
    named = {int(item_id): str(name) for item_id, name in found}
    return NewArtists(len(ids), [named[item_id] for item_id in picked if item_id in named])
