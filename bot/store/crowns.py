"""Crowns: who leads a guild in all-time plays of an artist (DESIGN.md "crown").

A crown of an artist in a guild is held by the counted member (bot/store/play_rankings.py
`counted`: a current member not hidden there) with the most all-time plays of the artist
(`play_totals`, kind artist), at least `CROWN_MIN_PLAYS`. Members tied on that count are told
apart by who reached it first: the time of their Nth play of the artist, N the tied count, read
from the raw plays (a member without such plays, or a tie on that time too, goes by user id).

Nothing is stored: crowns are read from the aggregates at request time, so a holder who leaves,
hides or has their plays deleted loses the crown with the next read.

Speed: `ix_play_totals_item` (kind, item, plays) makes "the most plays of this artist among the
other counted members" a walk from the end of the artist's range that stops at the first
counted member: one per artist the member has played at least 30 times, telling at once
whether someone is ahead and, if not, the runner-up's count. Raw plays are read only on ties
at the top, one query per member involved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, ColumnExpressionArgument, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import CatalogItem, GuildMember, Play, PlayTotal, TrackArtist
from bot.domain import ItemKind
from bot.store.play_catalog import is_named_only
from bot.store.plays import PlayedItem
from bot.store.visibility import shown_in

CROWN_MIN_PLAYS = 30
ARTIST = int(ItemKind.ARTIST)


@dataclass(frozen=True)
class Crown:
    """An artist whose crown a member holds, with their plays and the runner-up's."""

    artist: PlayedItem
    plays: int
    runner_up: int | None  # the next counted member's plays; None: nobody else played it


@dataclass(frozen=True)
class CrownHolder:
    discord_user_id: int
    plays: int


def counts_in(guild_id: int, user: ColumnExpressionArgument[int]) -> ColumnElement[bool]:
    """`user` (a correlated column) counts in the guild: the `counted` rule as a predicate.

    OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join: it stays a check per row,
    so a walk down `ix_play_totals_item` stops at the first counted member instead of reading
    every listener of the artist to join them with the guild's members."""
    return (
        select(GuildMember.discord_user_id)
        .where(
            GuildMember.guild_id == guild_id,
            GuildMember.discord_user_id == user,
            shown_in(guild_id, GuildMember.discord_user_id),
        )
        .offset(0)
        .exists()
    )


async def reached_at(
    session: AsyncSession, discord_user_id: int, counts: dict[int, int]
) -> dict[int, datetime]:
    """When the user reached `counts[artist]` plays of each artist: the start of that play.
    Artists they have fewer raw plays of are left out."""
    if not counts:
        return {}
    nth = (
        func.row_number()
        .over(
            partition_by=TrackArtist.artist_item_id,
            order_by=(Play.started_at, Play.track_item_id),
        )
        .label("nth")
    )
    numbered = (
        select(TrackArtist.artist_item_id.label("artist"), Play.started_at, nth)
        .join(TrackArtist, TrackArtist.track_item_id == Play.track_item_id)
        .where(
            Play.discord_user_id == discord_user_id,
            TrackArtist.artist_item_id.in_(list(counts)),
        )
        .subquery()
    )
    rows = await session.execute(
        select(numbered.c.artist, numbered.c.started_at).where(
            or_(
                *(
                    and_(numbered.c.artist == artist, numbered.c.nth == count)
                    for artist, count in counts.items()
                )
            )
        )
    )
    return {int(artist): started for artist, started in rows}


async def _first_to_reach(
    session: AsyncSession, ties: dict[int, tuple[int, list[int]]]
) -> dict[int, int]:
    """For each artist -> (count, tied users): the user who reached the count first."""
    wanted: dict[int, dict[int, int]] = defaultdict(dict)
    for artist, (count, users) in ties.items():
        for user in users:
            wanted[user][artist] = count
    times = {user: await reached_at(session, user, counts) for user, counts in wanted.items()}

    def order(artist: int, user: int) -> tuple[bool, datetime | None, int]:
        at = times[user].get(artist)
        return (at is None, at, user)

    return {
        artist: min(users, key=lambda user: order(artist, user))
        for artist, (_, users) in ties.items()
    }


async def _tied_at(
    session: AsyncSession, guild_id: int, artist_plays: Iterable[tuple[int, int]]
) -> dict[int, list[int]]:
    """Counted members with exactly the given plays of each artist, by artist."""
    found: dict[int, list[int]] = {}
    for artist, plays in artist_plays:
        rows = await session.scalars(
            select(PlayTotal.discord_user_id)
            .where(
                PlayTotal.kind == ARTIST,
                PlayTotal.item_id == artist,
                PlayTotal.plays == plays,
                counts_in(guild_id, PlayTotal.discord_user_id),
            )
            .order_by(PlayTotal.discord_user_id)
        )
        found[artist] = list(rows)
    return found


async def crown_holder(session: AsyncSession, guild_id: int, artist_id: int) -> CrownHolder | None:
    """Who holds the crown of the artist in the guild (None: nobody has 30 plays)."""
    top = await session.scalar(
        select(PlayTotal.plays)
        .where(
            PlayTotal.kind == ARTIST,
            PlayTotal.item_id == artist_id,
            PlayTotal.plays >= CROWN_MIN_PLAYS,
            counts_in(guild_id, PlayTotal.discord_user_id),
        )
        .order_by(PlayTotal.plays.desc())
        .limit(1)
    )
    if top is None:
        return None
    tied = (await _tied_at(session, guild_id, [(artist_id, top)]))[artist_id]
    if len(tied) == 1:
        return CrownHolder(tied[0], top)
    first = await _first_to_reach(session, {artist_id: (top, tied)})
    return CrownHolder(first[artist_id], top)


async def member_crowns(session: AsyncSession, guild_id: int, discord_user_id: int) -> list[Crown]:
    """The artists whose crown the member holds in the guild, most plays first (then by name):
    none when the member does not count there."""
    other = aliased(PlayTotal)
    best_other = (
        select(other.plays)
        .where(
            other.kind == ARTIST,
            other.item_id == PlayTotal.item_id,
            other.discord_user_id != discord_user_id,
            counts_in(guild_id, other.discord_user_id),
        )
        .order_by(other.plays.desc())
        .limit(1)
        .correlate(PlayTotal)
        .scalar_subquery()
    )
    candidates = await session.execute(
        select(
            CatalogItem.id,
            CatalogItem.spotify_id,
            CatalogItem.name,
            CatalogItem.subtitle,
            CatalogItem.image_url,
            PlayTotal.plays,
            best_other,
        )
        .join(CatalogItem, CatalogItem.id == PlayTotal.item_id)
        .where(
            PlayTotal.discord_user_id == discord_user_id,
            PlayTotal.kind == ARTIST,
            PlayTotal.plays >= CROWN_MIN_PLAYS,
            counts_in(guild_id, PlayTotal.discord_user_id),
        )
    )
    rows = [row for row in candidates if row[-1] is None or row[-1] <= row.plays]
    tied = {row.id: int(row.plays) for row in rows if row[-1] == row.plays}
    lost: set[int] = set()
    if tied:
        users = await _tied_at(session, guild_id, tied.items())
        first = await _first_to_reach(
            session, {artist: (tied[artist], found) for artist, found in users.items()}
        )
        lost = {artist for artist, user in first.items() if user != discord_user_id}
    crowns = [
        Crown(
            PlayedItem(
                item_id=item_id,
                kind=ItemKind.ARTIST,
                spotify_id=None if is_named_only(spotify_id) else spotify_id,
                name=name,
                subtitle=subtitle,
                image_url=image_url,
            ),
            int(plays),
            None if second is None else int(second),
        )
        for item_id, spotify_id, name, subtitle, image_url, plays, second in rows
        if item_id not in lost
    ]
    crowns.sort(key=lambda crown: (-crown.plays, crown.artist.name.lower(), crown.artist.item_id))
    return crowns
