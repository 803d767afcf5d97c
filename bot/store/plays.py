"""Plays of Discord users, from every source, and the aggregates every ranking reads.

Storage (the catalog side is in bot/store/play_catalog.py)
- `plays`: one row per play, keyed (user, started_at, track): a play recorded again is the same
  key, and a member's plays in time order are one range of it (recent plays, dedupe windows,
  deletion). WITHOUT ROWID on SQLite: the key is the table, no second copy. Rankings never
  read it.
- `play_days`: plays and ms per (user, kind, UTC day, item), kind artist, track or album. A play
  counts once for its track, once for its album and once for each credited artist. Key order
  (user, kind, day, item) makes "a member's top items since a day" one range;
  `ix_play_days_track` (item, day, user), on track rows only, finds a track's day rows for
  re-crediting and merging (an artist's or album's are found through its tracks').
- `play_totals`: the same per (user, kind, item) for all time, so all-time rankings, play
  counts in /nowplaying and crowns read one row per (member, item) instead of a year of days;
  `ix_play_totals_item` (kind, item, plays) finds an item's listeners, most plays last, so
  "who has the most plays of this artist" (crowns, bot/store/crowns.py) is a walk from the end
  of the item's range; the entry moves on every play, a small cost next to the row update.
Both aggregate tables are WITHOUT ROWID on SQLite too.

Both aggregates change in the transaction that inserts or deletes plays, in the database, from
the batch of plays just inserted (bot/store/play_writes.py). Monthly rollups were left out:
for one member a year is at most a few thousand day rows (milliseconds), while a server-wide
board over 2,000 members x a year is millions of day rows and would still be hundreds of
thousands of month rows to sum per request; what makes those boards fast is a per-guild
materialised board kept from these tables (bot/store/guild_plays.py), not a coarser
per-member grain.

Duplicates: a play is a duplicate when the same member has a play of the same track whose start
is closer than the track's length (its known duration, else the longer of the two plays' ms,
else 30 s): presence and recently-played hearing the same listening count once, and recording
the same batch twice adds nothing. Writers take `lock_shared_writes` first (the catalog is
shared), and on SQLite the write lock, so the duplicate check and the insert are one step.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter

from sqlalchemy import ColumnElement, bindparam, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.engine import lock_shared_writes
from bot.db.models import CatalogItem, CatalogTrack, Play, PlayDay, PlayTotal, TrackArtist
from bot.domain import ItemKind, PlayIn, PlaySource
from bot.store import guild_plays
from bot.store.play_catalog import (
    PART,
    ItemIn,
    add_aggregates,
    album_key,
    artist_key,
    chunks,
    is_named_only,
    lookup_names,
    resolve,
    table_of,
    track_aggregates,
    track_key,
)
from bot.store.play_writes import (
    PlayKey,
    PlayValues,
    off_loop,
    plays_between,
    store_plays,
    take_write_lock,
)

DEFAULT_LENGTH_MS = 30_000
ARTIST, TRACK, ALBUM = int(ItemKind.ARTIST), int(ItemKind.TRACK), int(ItemKind.ALBUM)
EPOCH = date(1970, 1, 1)
SAME_WINDOW_USERS = 1_000
MIN_MARGIN_MS = 20 * 60_000
"""Stored plays this close to a new one are read for the duplicate check, at least: a stored
play without a known track length counts with its own ms, which the batch does not know."""


@dataclass(frozen=True)
class RecordResult:
    added: int
    duplicates: int


@dataclass(frozen=True)
class PlayRow:
    started_at: datetime
    ms_played: int
    source: PlaySource
    track_name: str
    artist_names: tuple[str, ...]
    album_name: str | None
    track_id: str | None  # Spotify ID; None for a track known only by name
    image_url: str | None
    track_item_id: int


@dataclass(frozen=True)
class PlayedItem:
    """A catalog item as rankings over plays show it."""

    item_id: int
    kind: ItemKind
    spotify_id: str | None  # None: known only by name so far
    name: str
    subtitle: str | None
    image_url: str | None


@dataclass(frozen=True)
class TrackKey:
    """A track as a caller knows it: its Spotify ID, or its title and primary artist."""

    title: str
    primary_artist: str
    spotify_id: str | None = None


@dataclass(frozen=True)
class ArtistKey:
    name: str
    spotify_id: str | None = None


@dataclass(frozen=True)
class PlayCounts:
    track: int
    artist: int
    artist_item: int | None = None  # the artist's catalog id, None when plays never named it


@dataclass(frozen=True)
class MissingIds:
    """A played track whose Spotify ID is known but not its artists' and album's."""

    track_item_id: int
    spotify_id: str


@dataclass(frozen=True)
class TrackIds:
    """What `GET /tracks/{id}` says of a track: its artists and album by ID."""

    track_id: str
    artists: tuple[tuple[str, str], ...]  # (Spotify ID, name) in credit order
    album: tuple[str, str] | None = None  # (Spotify ID, name)
    image_url: str | None = None
    duration_ms: int | None = None


def day_number(moment: datetime) -> int:
    """Days since 1970-01-01 of a UTC-aware moment's UTC date."""
    return int(moment.timestamp() // 86_400)


def day_of(day: date) -> int:
    return (day - EPOCH).days


# --- recording ----------------------------------------------------------------------------


@dataclass
class _Track:
    item_id: int
    album_item_id: int | None
    artist_item_ids: tuple[int, ...]
    duration_ms: int | None


def _primary(play: PlayIn) -> str:
    return play.artist_names[0] if play.artist_names else ""


def _artist_refs(play: PlayIn) -> list[ItemIn]:
    ids: Sequence[str | None] = (
        play.artist_ids
        if len(play.artist_ids) == len(play.artist_names)
        else [None] * len(play.artist_names)
    )
    return [
        ItemIn(name=name, key=artist_key(name), spotify_id=sid or None)
        for name, sid in zip(play.artist_names, ids, strict=True)
        if name.strip() or sid
    ]


def _album_ref(play: PlayIn) -> ItemIn | None:
    if not (play.album_name and play.album_name.strip()) and not play.album_id:
        return None
    name = play.album_name or ""
    return ItemIn(
        name=name,
        key=album_key(name, _primary(play)),
        spotify_id=play.album_id or None,
        subtitle=_primary(play) or None,
        image_url=play.image_url,
    )


def _track_ref(play: PlayIn) -> ItemIn:
    all_ids = bool(play.artist_ids) and len(play.artist_ids) == len(play.artist_names)
    return ItemIn(
        name=play.track_name,
        key=track_key(play.track_name, _primary(play)),
        spotify_id=play.track_id or None,
        subtitle=", ".join(play.artist_names) or None,
        image_url=play.image_url,
        album_spotify_id=play.album_id or None,
        artist_spotify_ids=",".join(play.artist_ids) if all_ids else None,
    )


_TRACKS = select(CatalogTrack.item_id, CatalogTrack.album_item_id, CatalogTrack.duration_ms).where(
    CatalogTrack.item_id.in_(PART)
)
_CREDITS = (
    select(TrackArtist.track_item_id, TrackArtist.artist_item_id)
    .where(TrackArtist.track_item_id.in_(PART))
    .order_by(TrackArtist.track_item_id, TrackArtist.position)
)


async def _tracks_of(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, _Track]:
    found: dict[int, _Track] = {}
    credits: dict[int, list[int]] = defaultdict(list)
    for part in chunks(sorted(set(item_ids))):
        connection = await session.connection()
        rows = (await connection.execute(_TRACKS, {"part": list(part)})).all()
        for item_id, album, duration in rows:
            found[item_id] = _Track(item_id, album, (), duration)
        artists = (await connection.execute(_CREDITS, {"part": list(part)})).all()
        for track, artist in artists:
            credits[track].append(artist)
    for item_id, artist_ids in credits.items():
        if item_id in found:
            found[item_id].artist_item_ids = tuple(dict.fromkeys(artist_ids))
    return found


async def catalog_for(
    session: AsyncSession, plays: Sequence[PlayIn], now: datetime
) -> tuple[list[int], dict[int, _Track]]:
    """The catalog track of each play (parallel to `plays`), and each track's credits.
    Names are resolved once per distinct description of a track in the batch."""
    distinct: dict[tuple[object, ...], PlayIn] = {}
    signatures = [_signature(play) for play in plays]
    for signature, play in zip(signatures, plays, strict=True):
        distinct.setdefault(signature, play)
    firsts = list(distinct.values())
    track_refs = [_track_ref(play) for play in firsts]
    tracks = await resolve(session, ItemKind.TRACK, track_refs, now)
    first_ids = [tracks[ref.catalog_id] for ref in track_refs]
    known = await _tracks_of(session, first_ids)
    # Credits are fixed at a track's first play: only new tracks need their names resolved.
    unknown = [
        (play, track_id)
        for play, track_id in zip(firsts, first_ids, strict=True)
        if track_id not in known
    ]
    artist_refs = [_artist_refs(play) for play, _ in unknown]
    album_refs = [_album_ref(play) for play, _ in unknown]
    artists = await resolve(
        session, ItemKind.ARTIST, [ref for refs in artist_refs for ref in refs], now
    )
    albums = await resolve(
        session, ItemKind.ALBUM, [ref for ref in album_refs if ref is not None], now
    )
    new_tracks: list[dict[str, int | None]] = []
    new_credits: list[dict[str, int]] = []
    durations: dict[int, int] = {}
    for (play, track_id), refs, album in zip(unknown, artist_refs, album_refs, strict=True):
        track = known.get(track_id)  # a second description of a track new in this batch
        if track is None:
            credited = tuple(dict.fromkeys(artists[ref.catalog_id] for ref in refs))
            album_id = albums[album.catalog_id] if album is not None else None
            track = _Track(track_id, album_id, credited, play.duration_ms)
            known[track_id] = track
            new_tracks.append(
                {"item_id": track_id, "album_item_id": album_id, "duration_ms": play.duration_ms}
            )
            new_credits.extend(
                {"track_item_id": track_id, "position": position, "artist_item_id": artist}
                for position, artist in enumerate(credited)
            )
    for play, track_id in zip(firsts, first_ids, strict=True):
        track = known[track_id]
        if track.duration_ms is None and play.duration_ms:
            track.duration_ms = play.duration_ms
            durations[track_id] = play.duration_ms
    if new_tracks:
        await (await session.connection()).execute(table_of(CatalogTrack).insert(), new_tracks)
    if new_credits:
        await (await session.connection()).execute(table_of(TrackArtist).insert(), new_credits)
    if durations:
        table = table_of(CatalogTrack)
        await session.execute(
            update(table)
            .where(table.c.item_id == bindparam("t"))
            .values(duration_ms=bindparam("d")),
            [{"t": track, "d": ms} for track, ms in durations.items()],
        )
    by_signature = dict(zip(distinct, first_ids, strict=True))
    return [by_signature[signature] for signature in signatures], known


def _signature(play: PlayIn) -> tuple[object, ...]:
    return (
        play.track_id,
        play.track_name,
        play.artist_names,
        play.artist_ids,
        play.album_name,
        play.album_id,
    )


_START = itemgetter(1)


def _length_ms(duration_ms: int | None, *plays_ms: int) -> int:
    return duration_ms or max(plays_ms, default=0) or DEFAULT_LENGTH_MS


def _windows(
    candidates: Sequence[PlayValues], margin: timedelta
) -> list[tuple[Sequence[int], datetime, datetime]]:
    """Where stored plays may collide with the candidates: one short window for a burst of
    many members (presence), else one window per member (imports)."""
    by_user: dict[int, list[datetime]] = defaultdict(list)
    for user, started, *_ in candidates:
        by_user[user].append(started)
    low = min(min(times) for times in by_user.values()) - margin
    high = max(max(times) for times in by_user.values()) + margin
    if high - low <= timedelta(days=1):
        users = sorted(by_user)
        return [
            (users[i : i + SAME_WINDOW_USERS], low, high)
            for i in range(0, len(users), SAME_WINDOW_USERS)
        ]
    return [
        ([user], min(times) - margin, max(times) + margin)
        for user, times in sorted(by_user.items())
    ]


async def new_plays(
    session: AsyncSession, candidates: list[PlayValues], durations: Mapping[int, int | None]
) -> list[PlayValues]:
    """The candidates that are neither stored already nor repeated within the batch;
    `durations` holds the known length of every candidate's track (None: unknown)."""
    margin, windows = await off_loop(len(candidates), _margin_and_windows, candidates, durations)
    near = await plays_between(session, windows)
    return await off_loop(len(candidates), _fresh, candidates, durations, margin, near)


def _margin_and_windows(
    candidates: Sequence[PlayValues], durations: Mapping[int, int | None]
) -> tuple[timedelta, list[tuple[Sequence[int], datetime, datetime]]]:
    known = [durations[track] or 0 for track in {c[2] for c in candidates}]
    unknown = [ms for _, _, track, ms, _ in candidates if not durations[track]]
    longest = max(max(known, default=0), max(unknown, default=0))  # the longest length
    margin = timedelta(milliseconds=max(longest, MIN_MARGIN_MS))
    return margin, _windows(candidates, margin)


def _fresh(
    candidates: Sequence[PlayValues],
    durations: Mapping[int, int | None],
    margin: timedelta,
    near: Sequence[PlayKey],
) -> list[PlayValues]:
    seen: dict[tuple[int, int], list[tuple[datetime, int]]] = defaultdict(list)
    for user, track_id, started, ms in near:
        seen[(user, track_id)].append((started, ms))
    for starts in seen.values():
        starts.sort()
    groups: dict[tuple[int, int], list[PlayValues]] = defaultdict(list)
    for candidate in candidates:
        groups[(candidate[0], candidate[2])].append(candidate)
    fresh: list[PlayValues] = []
    for key, group in groups.items():
        if len(group) > 1:
            group.sort(key=_START)
        duration = durations[key[1]]
        stored = seen.get(key)
        if stored is None and duration:
            # Nothing stored near and one length: the nearest kept play is the last one kept.
            length = timedelta(milliseconds=duration)
            last: datetime | None = None
            for candidate in group:
                if last is None or candidate[1] - last >= length:
                    fresh.append(candidate)
                    last = candidate[1]
            continue
        starts = stored or []
        for candidate in group:
            _, started_at, _, ms_played, _ = candidate
            low = bisect.bisect_left(starts, (started_at - margin, -1))
            high = bisect.bisect_right(starts, (started_at + margin, 2**62))
            if any(
                abs(started - started_at)
                < timedelta(milliseconds=_length_ms(duration, ms, ms_played))
                for started, ms in starts[low:high]
            ):
                continue
            bisect.insort(starts, (started_at, ms_played))
            fresh.append(candidate)
    return fresh


async def record_plays(session: AsyncSession, plays: Sequence[PlayIn]) -> RecordResult:
    """Store plays (thousands per call are fine) with the catalog and aggregates they need,
    inside the caller's transaction. Duplicates (see the module docstring) are skipped."""
    if not plays:
        return RecordResult(0, 0)
    for play in plays:
        if play.started_at.tzinfo is None:
            raise ValueError("naive started_at given to record_plays")
    await lock_shared_writes(session)
    await take_write_lock(session)
    now = datetime.now(UTC)
    track_ids, tracks = await catalog_for(session, plays, now)
    candidates: list[PlayValues] = [
        (
            play.discord_user_id,
            play.started_at.astimezone(UTC),
            track_id,
            max(play.ms_played, 0),
            int(play.source),
        )
        for play, track_id in zip(plays, track_ids, strict=True)
    ]
    durations = {item_id: track.duration_ms for item_id, track in tracks.items()}
    fresh = await new_plays(session, candidates, durations)
    added = await store_plays(session, fresh)
    await _enrich_from(session, plays)
    return RecordResult(added=added, duplicates=len(plays) - added)


async def _enrich_from(session: AsyncSession, plays: Sequence[PlayIn]) -> None:
    """Plays that name a track's artists by ID (recently-played) enrich a track first known
    without them, as `attach_spotify_ids` would."""
    offered: dict[str, TrackIds] = {}
    for play in plays:
        if play.track_id and play.artist_ids and len(play.artist_ids) == len(play.artist_names):
            offered.setdefault(
                play.track_id,
                TrackIds(
                    play.track_id,
                    tuple(zip(play.artist_ids, play.artist_names, strict=True)),
                    (play.album_id, play.album_name or "") if play.album_id else None,
                    play.image_url,
                    play.duration_ms,
                ),
            )
    if not offered:
        return
    lacking: list[str] = []
    for part in chunks(sorted(offered)):
        lacking.extend(
            await session.scalars(
                select(CatalogItem.spotify_id).where(
                    CatalogItem.kind == int(ItemKind.TRACK),
                    CatalogItem.spotify_id.in_(part),
                    CatalogItem.artist_spotify_ids.is_(None),
                )
            )
        )
    await attach_spotify_ids(session, [offered[sid] for sid in lacking])


async def delete_plays(session: AsyncSession, discord_user_id: int) -> int:
    """Delete every play of the user and their aggregates, the per-guild play boards
    included; returns how many plays went."""
    await lock_shared_writes(session)
    await take_write_lock(session)
    await guild_plays.drop_plays(session, discord_user_id)
    await session.execute(delete(PlayDay).where(PlayDay.discord_user_id == discord_user_id))
    await session.execute(delete(PlayTotal).where(PlayTotal.discord_user_id == discord_user_id))
    result = await session.execute(delete(Play).where(Play.discord_user_id == discord_user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- reading plays ------------------------------------------------------------------------


async def recent_plays(
    session: AsyncSession, discord_user_id: int, *, limit: int, before: datetime | None = None
) -> list[PlayRow]:
    """The user's latest plays, newest first, started before `before` when given."""
    track = aliased(CatalogItem)
    album = aliased(CatalogItem)
    query = (
        select(
            Play.started_at,
            Play.ms_played,
            Play.source,
            Play.track_item_id,
            track.name,
            track.spotify_id,
            track.image_url,
            album.name,
            album.image_url,
        )
        .join(track, track.id == Play.track_item_id)
        .outerjoin(CatalogTrack, CatalogTrack.item_id == Play.track_item_id)
        .outerjoin(album, album.id == CatalogTrack.album_item_id)
        .where(Play.discord_user_id == discord_user_id)
        .order_by(Play.started_at.desc(), Play.track_item_id)
        .limit(limit)
    )
    if before is not None:
        query = query.where(Play.started_at < before)
    rows = (await session.execute(query)).all()
    names = await _artist_names(session, [row.track_item_id for row in rows])
    return [
        PlayRow(
            started_at=started,
            ms_played=ms,
            source=PlaySource(source),
            track_name=name,
            artist_names=names.get(track_item_id, ()),
            album_name=album_name,
            track_id=None if is_named_only(spotify_id) else spotify_id,
            image_url=image or album_image,
            track_item_id=track_item_id,
        )
        for (
            started,
            ms,
            source,
            track_item_id,
            name,
            spotify_id,
            image,
            album_name,
            album_image,
        ) in rows
    ]


async def _artist_names(
    session: AsyncSession, track_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = defaultdict(list)
    for part in chunks(sorted(set(track_ids))):
        rows = await session.execute(
            select(TrackArtist.track_item_id, CatalogItem.name)
            .join(CatalogItem, CatalogItem.id == TrackArtist.artist_item_id)
            .where(TrackArtist.track_item_id.in_(part))
            .order_by(TrackArtist.track_item_id, TrackArtist.position)
        )
        for track, name in rows:
            found[track].append(name)
    return {track: tuple(names) for track, names in found.items()}


async def last_play(session: AsyncSession, discord_user_id: int) -> PlayRow | None:
    rows = await recent_plays(session, discord_user_id, limit=1)
    return rows[0] if rows else None


async def has_plays_since(
    session: AsyncSession, user_ids: Sequence[int] | None, since: datetime
) -> bool:
    """Whether any of the users (anyone, for None) has a play started at or after `since`.
    With users it is one index seek per user; None scans plays and is meant for tools only."""
    if user_ids is None:
        return (
            await session.scalar(
                select(Play.discord_user_id).where(Play.started_at >= since).limit(1)
            )
        ) is not None
    for part in chunks(sorted(set(user_ids)), SAME_WINDOW_USERS):
        found = await session.scalar(
            select(Play.discord_user_id)
            .where(Play.discord_user_id.in_(part), Play.started_at >= since)
            .limit(1)
        )
        if found is not None:
            return True
    return False


# --- items and counts ---------------------------------------------------------------------


async def find_item(
    session: AsyncSession,
    kind: ItemKind,
    *,
    spotify_id: str | None = None,
    name: str | None = None,
    primary_artist: str = "",
) -> int | None:
    """The catalog id of an item by Spotify ID (tried first) or by its names (an artist's
    name; a track's or album's title and primary artist); None when plays never named it."""
    if spotify_id:
        found = await session.scalar(
            select(CatalogItem.id).where(
                CatalogItem.kind == int(kind), CatalogItem.spotify_id == spotify_id
            )
        )
        if found is not None:
            return int(found)
    if name is None:
        return None
    key = artist_key(name) if kind == ItemKind.ARTIST else track_key(name, primary_artist)
    mapped = await lookup_names(session, kind, [key])
    return mapped[key][0] if key in mapped else None


async def play_counts(
    session: AsyncSession,
    discord_user_id: int,
    *,
    track_key: TrackKey | None,
    artist_key: ArtistKey | None,
) -> PlayCounts:
    """The user's all-time plays of a track and of an artist (0 for an unknown item)."""

    def plays_of(kind: ItemKind, item_id: int | None) -> ColumnElement[int]:
        if item_id is None:
            return literal(0)
        return func.coalesce(
            select(PlayTotal.plays)
            .where(
                PlayTotal.discord_user_id == discord_user_id,
                PlayTotal.kind == int(kind),
                PlayTotal.item_id == item_id,
            )
            .scalar_subquery(),
            0,
        )

    track_item = (
        await find_item(
            session,
            ItemKind.TRACK,
            spotify_id=track_key.spotify_id,
            name=track_key.title,
            primary_artist=track_key.primary_artist,
        )
        if track_key
        else None
    )
    artist_item = (
        await find_item(
            session, ItemKind.ARTIST, spotify_id=artist_key.spotify_id, name=artist_key.name
        )
        if artist_key
        else None
    )
    if track_item is None and artist_item is None:
        return PlayCounts(0, 0)
    track, artist = (
        await session.execute(
            select(plays_of(ItemKind.TRACK, track_item), plays_of(ItemKind.ARTIST, artist_item))
        )
    ).one()
    return PlayCounts(track=int(track), artist=int(artist), artist_item=artist_item)


def _played_item(row: CatalogItem) -> PlayedItem:
    return PlayedItem(
        item_id=row.id,
        kind=ItemKind(row.kind),
        spotify_id=None if is_named_only(row.spotify_id) else row.spotify_id,
        name=row.name,
        subtitle=row.subtitle,
        image_url=row.image_url,
    )


async def top_items(
    session: AsyncSession,
    user_ids: Sequence[int] | None,
    kind: ItemKind,
    since: date | None,
    limit: int,
    offset: int = 0,
) -> list[tuple[PlayedItem, int]]:
    """Items of `kind` by the users' plays since the UTC day `since` (all time for None),
    most played first (ties by catalog id); reads aggregates only. `user_ids` None: everyone."""
    if since is None:
        plays = func.sum(PlayTotal.plays).label("plays")
        query = (
            select(PlayTotal.item_id, plays)
            .where(PlayTotal.kind == int(kind))
            .group_by(PlayTotal.item_id)
        )
        if user_ids is not None:
            query = query.where(PlayTotal.discord_user_id.in_(list(user_ids)))
        item = PlayTotal.item_id
    else:
        plays = func.sum(PlayDay.plays).label("plays")
        query = (
            select(PlayDay.item_id, plays)
            .where(PlayDay.kind == int(kind), PlayDay.day >= day_of(since))
            .group_by(PlayDay.item_id)
        )
        if user_ids is not None:
            query = query.where(PlayDay.discord_user_id.in_(list(user_ids)))
        item = PlayDay.item_id
    ranked = query.order_by(plays.desc(), item).limit(limit).offset(offset).subquery()
    rows = await session.execute(
        select(CatalogItem, ranked.c.plays)
        .join(ranked, ranked.c.item_id == CatalogItem.id)
        .order_by(ranked.c.plays.desc(), CatalogItem.id)
    )
    return [(_played_item(row), int(count)) for row, count in rows]


# --- enrichment ---------------------------------------------------------------------------


async def tracks_missing_ids(session: AsyncSession, limit: int) -> list[MissingIds]:
    """Played tracks known by Spotify ID whose artists' IDs are not known yet, oldest first."""
    rows = await session.execute(
        select(CatalogItem.id, CatalogItem.spotify_id)
        .join(CatalogTrack, CatalogTrack.item_id == CatalogItem.id)
        .where(
            CatalogItem.kind == int(ItemKind.TRACK),
            CatalogItem.artist_spotify_ids.is_(None),
            ~CatalogItem.spotify_id.startswith("~"),
        )
        .order_by(CatalogItem.id)
        .limit(limit)
    )
    return [MissingIds(item_id, spotify_id) for item_id, spotify_id in rows]


async def attach_spotify_ids(session: AsyncSession, found: Sequence[TrackIds]) -> None:
    """Give tracks their artists' and album's Spotify IDs (enrichment). An artist or album
    known only by name so far is merged into the identified one, and the track's plays move
    from its old credits to the new ones in the aggregates."""
    if not found:
        return
    await lock_shared_writes(session)
    now = datetime.now(UTC)
    for info in found:
        track_id = await find_item(session, ItemKind.TRACK, spotify_id=info.track_id)
        if track_id is None:
            continue
        primary = info.artists[0][1] if info.artists else ""
        artist_refs = [
            ItemIn(name=name, key=artist_key(name), spotify_id=sid) for sid, name in info.artists
        ]
        artists = await resolve(session, ItemKind.ARTIST, artist_refs, now)
        album_item: int | None = None
        if info.album is not None:
            album_sid, album_name = info.album
            album_ref = ItemIn(
                name=album_name,
                key=album_key(album_name, primary),
                spotify_id=album_sid,
                subtitle=primary or None,
                image_url=info.image_url,
            )
            album_item = (await resolve(session, ItemKind.ALBUM, [album_ref], now))[album_sid]
        credited = tuple(dict.fromkeys(artists[ref.catalog_id] for ref in artist_refs))
        await _recredit(session, track_id, credited, album_item, info.duration_ms)
        values: dict[str, object] = {
            "artist_spotify_ids": ",".join(sid for sid, _ in info.artists),
            "subtitle": ", ".join(name for _, name in info.artists)[:512] or None,
            "updated_at": now,
        }
        if info.album is not None:
            values["album_spotify_id"] = info.album[0]
        await session.execute(
            update(CatalogItem).where(CatalogItem.id == track_id).values(**values)
        )
        if info.image_url:
            await session.execute(
                update(CatalogItem)
                .where(CatalogItem.id == track_id, CatalogItem.image_url.is_(None))
                .values(image_url=info.image_url)
            )


async def _recredit(
    session: AsyncSession,
    track_id: int,
    artists: tuple[int, ...],
    album: int | None,
    duration_ms: int | None,
) -> None:
    """Set a track's credits and album, moving its plays' aggregates from the old ones."""
    old = (await _tracks_of(session, [track_id])).get(track_id)
    old_artists = old.artist_item_ids if old else ()
    old_album = old.album_item_id if old else None
    new_album = album if album is not None else old_album
    gone = [(int(ItemKind.ARTIST), a) for a in old_artists if a not in artists]
    came = [(int(ItemKind.ARTIST), a) for a in artists if a not in old_artists]
    if new_album != old_album:
        if old_album is not None:
            gone.append((int(ItemKind.ALBUM), old_album))
        if new_album is not None:
            came.append((int(ItemKind.ALBUM), new_album))
    if gone or came:
        days, totals = await track_aggregates(session, track_id)
        for items, sign in ((gone, -1), (came, 1)):
            await add_aggregates(
                session,
                [
                    {
                        "discord_user_id": u,
                        "kind": k,
                        "day": d,
                        "item_id": i,
                        "plays": p,
                        "ms_played": m,
                    }
                    for k, i in items
                    for u, d, p, m in days
                ],
                [
                    {"discord_user_id": u, "kind": k, "item_id": i, "plays": p, "ms_played": m}
                    for k, i in items
                    for u, p, m in totals
                ],
                sign,
            )
    await session.execute(delete(TrackArtist).where(TrackArtist.track_item_id == track_id))
    if artists:
        await session.execute(
            table_of(TrackArtist).insert(),
            [
                {"track_item_id": track_id, "position": position, "artist_item_id": artist}
                for position, artist in enumerate(artists)
            ],
        )
    if old is None:
        await session.execute(
            table_of(CatalogTrack).insert(),
            [{"item_id": track_id, "album_item_id": new_album, "duration_ms": duration_ms}],
        )
    else:
        await session.execute(
            update(CatalogTrack)
            .where(CatalogTrack.item_id == track_id)
            .values(
                album_item_id=new_album,
                duration_ms=func.coalesce(CatalogTrack.duration_ms, duration_ms),
            )
        )


async def mark_ids_unknown(session: AsyncSession, spotify_ids: Sequence[str]) -> None:
    """Tracks Spotify does not know by these IDs: they stay grouped by name and are not offered
    for enrichment again."""
    for part in chunks(sorted(set(spotify_ids))):
        await session.execute(
            update(CatalogItem)
            .where(
                CatalogItem.kind == int(ItemKind.TRACK),
                CatalogItem.spotify_id.in_(part),
                CatalogItem.artist_spotify_ids.is_(None),
            )
            .values(artist_spotify_ids="")
        )


async def keep_enrichment(
    session: AsyncSession, found: Sequence[TrackIds], unknown: Sequence[str]
) -> None:
    """Store what enrichment learnt in one transaction: `attach_spotify_ids` for the tracks
    Spotify answered, `mark_ids_unknown` for the ones it does not know. The writer first (on
    SQLite), so the reads that decide the merges cannot go stale."""
    if not found and not unknown:
        return
    await lock_shared_writes(session)
    await take_write_lock(session)
    await attach_spotify_ids(session, found)
    await mark_ids_unknown(session, unknown)
