"""The catalog as plays grow it: items by Spotify ID when known, else by normalised names.

Plays reuse `catalog_items`, the catalog top lists already fill, so an artist has one catalog
id whether a member's top list or their plays name it, and rankings by plays and by top lists
can meet on it (who-knows lists both). Three sibling tables hold what plays need beyond it:

- `catalog_names`: a digest of an item's normalised name (`name_key`) -> its catalog id. An
  artist's key is its name; a track's and an album's are their title with the primary artist.
  A play that comes with names only finds its items here, preferring an item whose Spotify ID
  is known. An item never seen with an ID gets a catalog row whose `spotify_id` is `~` and its
  key (`~` cannot start a base62 ID), until an ID arrives: then the named-only artist or album
  is merged into the identified one, aggregates included (`merge_items`).
- `catalog_tracks`: a played track's album and length (the length decides duplicates).
- `track_artists`: its artists in credit order; a play counts for each of them.

A track's credits and album are fixed when it is first played and change only through
enrichment (`attach_spotify_ids` in bot/store/plays.py), which moves the aggregates along.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.engine import upsert_insert
from bot.db.models import (
    CatalogItem,
    CatalogName,
    CatalogTrack,
    PlayDay,
    PlayTotal,
    TrackArtist,
)
from bot.domain import ItemKind
from bot.store import guild_plays

NAMED_ONLY_PREFIX = "~"
CHUNK = 5_000
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def table_of(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


@functools.lru_cache(maxsize=65_536)
def normalise(name: str) -> str:
    """Case-folded, NFKC-normalised, trimmed, inner whitespace collapsed to one space."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(unicodedata.normalize("NFKC", folded).split())


@functools.lru_cache(maxsize=65_536)
def name_key(*names: str) -> str:
    """The digest that stands for one or more names (normalised) in `catalog_names`."""
    joined = "\x1f".join(normalise(name) for name in names)
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()


def artist_key(name: str) -> str:
    return name_key(name)


def track_key(title: str, primary_artist: str) -> str:
    return name_key(title, primary_artist)


def album_key(title: str, primary_artist: str) -> str:
    return name_key(title, primary_artist)


def named_only_id(key: str) -> str:
    return NAMED_ONLY_PREFIX + key


def is_named_only(spotify_id: str) -> bool:
    return spotify_id.startswith(NAMED_ONLY_PREFIX)


@dataclass
class ItemIn:
    """An artist, track or album as a play names it."""

    name: str
    key: str
    spotify_id: str | None = None
    subtitle: str | None = None
    image_url: str | None = None
    album_spotify_id: str | None = None
    artist_spotify_ids: str | None = None

    @property
    def catalog_id(self) -> str:
        return self.spotify_id or named_only_id(self.key)


PART: BindParameter[Any] = bindparam("part", expanding=True)
"""A chunk of keys as one parameter: a statement built once is compiled once (cached), where
`.in_(values)` builds a bound parameter per value on every call."""
_EXISTING = select(CatalogItem.spotify_id, CatalogItem.id, CatalogItem.image_url).where(
    CatalogItem.kind == bindparam("kind"), CatalogItem.spotify_id.in_(PART)
)
_NAMES = (
    select(CatalogName.name_key, CatalogName.item_id, CatalogItem.spotify_id)
    .join(CatalogItem, CatalogItem.id == CatalogName.item_id)
    .where(CatalogName.kind == bindparam("kind"), CatalogName.name_key.in_(PART))
)


async def _existing(
    session: AsyncSession, kind: ItemKind, spotify_ids: Iterable[str]
) -> dict[str, tuple[int, str | None]]:
    """spotify_id -> (catalog id, image_url) for the ones in the catalog."""
    found: dict[str, tuple[int, str | None]] = {}
    for part in chunks(sorted(set(spotify_ids))):
        result = await (await session.connection()).execute(
            _EXISTING, {"kind": int(kind), "part": list(part)}
        )
        rows = result.all()  # one fetch, not a row at a time through the async adapter
        found.update({sid: (item_id, image) for sid, item_id, image in rows})
    return found


async def lookup_names(
    session: AsyncSession, kind: ItemKind, keys: Iterable[str]
) -> dict[str, tuple[int, bool]]:
    """name_key -> (catalog id, known only by name) for the keys the catalog knows."""
    found: dict[str, tuple[int, bool]] = {}
    for part in chunks(sorted(set(keys))):
        result = await (await session.connection()).execute(
            _NAMES, {"kind": int(kind), "part": list(part)}
        )
        rows = result.all()
        found.update({key: (item_id, is_named_only(sid)) for key, item_id, sid in rows})
    return found


async def ensure_items(
    session: AsyncSession, kind: ItemKind, items: Iterable[ItemIn], now: datetime
) -> dict[str, int]:
    """Catalog ids of `items` by their `catalog_id`, inserting the missing ones and filling an
    image or IDs an existing row lacks. Known rows are only read: the steady state of a busy
    bot writes nothing here. Callers hold `lock_shared_writes`."""
    unique: dict[str, ItemIn] = {}
    for item in items:
        unique.setdefault(item.catalog_id, item)
    if not unique:
        return {}
    existing = await _existing(session, kind, unique)
    ids = {sid: item_id for sid, (item_id, _) in existing.items()}
    missing = [
        {
            "kind": int(kind),
            "spotify_id": sid,
            "name": item.name[:512],
            "subtitle": (item.subtitle or "")[:512] or None,
            "image_url": item.image_url,
            "album_spotify_id": item.album_spotify_id,
            "artist_spotify_ids": item.artist_spotify_ids,
            "updated_at": now,
        }
        for sid, item in sorted(unique.items())
        if sid not in existing
    ]
    if missing:
        table = table_of(CatalogItem)
        stmt = (
            upsert_insert(session)(table)
            .on_conflict_do_nothing(index_elements=["kind", "spotify_id"])
            .returning(table.c.id, table.c.spotify_id)
        )
        result = await (await session.connection()).execute(stmt, missing)
        ids.update({sid: item_id for item_id, sid in result.all()})
    fill = [
        {"row_id": existing[sid][0], "image": item.image_url}
        for sid, item in unique.items()
        if sid in existing and existing[sid][1] is None and item.image_url
    ]
    if fill:
        await session.execute(
            update(table_of(CatalogItem))
            .where(table_of(CatalogItem).c.id == _bind("row_id"))
            .values(image_url=_bind("image")),
            fill,
        )
    return ids


def _bind(name: str) -> Any:
    return bindparam(name)


async def register_names(session: AsyncSession, kind: ItemKind, names: dict[str, int]) -> None:
    """Point each name key at its item, unless the key already points somewhere."""
    if not names:
        return
    stmt = upsert_insert(session)(table_of(CatalogName)).on_conflict_do_nothing(
        index_elements=["kind", "name_key"]
    )
    await (await session.connection()).execute(
        stmt,
        [
            {"kind": int(kind), "name_key": key, "item_id": item_id}
            for key, item_id in sorted(names.items())
        ],
    )


async def resolve(
    session: AsyncSession, kind: ItemKind, items: Sequence[ItemIn], now: datetime
) -> dict[str, int]:
    """Catalog ids of `items`, by `ItemIn.catalog_id` of each as given (an item known only by
    name maps under `~key`, to the identified item when its names are known to be one).

    An identified artist or album whose name key points at a named-only item absorbs it
    (`merge_items`). Tracks are not merged: a named-only track keeps its plays, and later
    name-only plays of it go to the identified track once that is known by its names.
    """
    keys = {item.key for item in items}
    known = await lookup_names(session, kind, keys)
    ided = [item for item in items if item.spotify_id]
    ids = await ensure_items(session, kind, ided, now)
    new_names: dict[str, int] = {}
    for item in ided:
        assert item.spotify_id is not None
        item_id = ids[item.spotify_id]
        mapped = known.get(item.key)
        if mapped is None:
            new_names.setdefault(item.key, item_id)
            known[item.key] = (item_id, False)
        elif mapped[1] and mapped[0] != item_id and kind != ItemKind.TRACK:
            await merge_items(session, kind, mapped[0], item_id)
            known[item.key] = (item_id, False)
    named = [item for item in items if not item.spotify_id and item.key not in known]
    created = await ensure_items(session, kind, named, now)
    for item in named:
        item_id = created[item.catalog_id]
        new_names.setdefault(item.key, item_id)
        known[item.key] = (item_id, True)
    await register_names(session, kind, new_names)
    result = dict(ids)
    for item in items:
        if not item.spotify_id:
            result[item.catalog_id] = known[item.key][0]
    return result


async def add_aggregates(
    session: AsyncSession,
    days: Sequence[dict[str, int]],
    totals: Sequence[dict[str, int]],
    sign: int = 1,
) -> None:
    """Add (sign=1) or subtract (sign=-1) play counts and ms onto `play_days` and
    `play_totals` rows; rows that reach zero plays are deleted. The per-guild play boards
    follow (bot/store/guild_plays.py)."""
    for table, rows, keys in (
        (table_of(PlayDay), days, ["discord_user_id", "kind", "day", "item_id"]),
        (table_of(PlayTotal), totals, ["discord_user_id", "kind", "item_id"]),
    ):
        if not rows:
            continue
        if sign > 0:
            base = upsert_insert(session)(table)
            stmt = base.on_conflict_do_update(
                index_elements=keys,
                set_={
                    "plays": table.c.plays + base.excluded.plays,
                    "ms_played": table.c.ms_played + base.excluded.ms_played,
                },
            )
            await session.execute(stmt, list(rows))
            continue
        match = [table.c[key] == _bind(f"k_{key}") for key in keys]
        params = [
            {
                **{f"k_{key}": row[key] for key in keys},
                "d_plays": row["plays"],
                "d_ms": row["ms_played"],
            }
            for row in rows
        ]
        await session.execute(
            update(table)
            .where(*match)
            .values(
                plays=table.c.plays - _bind("d_plays"),
                ms_played=table.c.ms_played - _bind("d_ms"),
            ),
            params,
        )
        await session.execute(
            delete(table).where(*match, table.c.plays <= 0),
            [{f"k_{key}": row[key] for key in keys} for row in rows],
        )
    await guild_plays.count_changes(session, days, totals, sign)


TRACK_DAYS = PlayDay.kind == literal_column(str(int(ItemKind.TRACK)))
"""Track rows of `play_days`, the kind written into the statement: the generic plan PostgreSQL
settles on for a prepared statement cannot use a partial index (`ix_play_days_track`) for a
bound value."""


async def track_aggregates(
    session: AsyncSession, track: int
) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int]]]:
    """A track's `play_days` rows (user, day, plays, ms) and `play_totals` rows (user, plays,
    ms), every listener's."""
    days = await session.execute(
        select(PlayDay.discord_user_id, PlayDay.day, PlayDay.plays, PlayDay.ms_played).where(
            TRACK_DAYS, PlayDay.item_id == track
        )
    )
    totals = await session.execute(
        select(PlayTotal.discord_user_id, PlayTotal.plays, PlayTotal.ms_played).where(
            PlayTotal.kind == int(ItemKind.TRACK), PlayTotal.item_id == track
        )
    )
    return [(u, d, p, m) for u, d, p, m in days], [(u, p, m) for u, p, m in totals]


def item_days(kind: ItemKind, item: int) -> Select[int, int, int, int]:
    """The `play_days` rows (user, day, plays, ms) of an artist or album. There is no index of
    day rows by artist or album: a row exists exactly where one of its tracks (credited to the
    artist, on the album) has a day row, so the track days give the keys to look up."""
    tracks = (
        select(TrackArtist.track_item_id).where(TrackArtist.artist_item_id == item)
        if kind == ItemKind.ARTIST
        else select(CatalogTrack.item_id).where(CatalogTrack.album_item_id == item)
    )
    keys = (
        select(PlayDay.discord_user_id, PlayDay.day)
        .where(TRACK_DAYS, PlayDay.item_id.in_(tracks))
        .distinct()
        .subquery()
    )
    rows = aliased(PlayDay)
    return (
        select(rows.discord_user_id, rows.day, rows.plays, rows.ms_played)
        .join(keys, and_(rows.discord_user_id == keys.c.discord_user_id, rows.day == keys.c.day))
        .where(rows.kind == int(kind), rows.item_id == item)
    )


async def merge_items(session: AsyncSession, kind: ItemKind, old: int, new: int) -> None:
    """Fold named-only artist or album `old` into `new`: aggregates are summed onto `new`,
    credits and names point at `new`, and `old` leaves the catalog."""
    if kind == ItemKind.ARTIST:
        await _drop_double_credits(session, old, new)
    days = [
        {"discord_user_id": u, "kind": int(kind), "day": d, "plays": p, "ms_played": m}
        for u, d, p, m in await session.execute(item_days(kind, old))
    ]
    totals = [
        {"discord_user_id": u, "kind": int(kind), "plays": p, "ms_played": m}
        for u, p, m in await session.execute(
            select(PlayTotal.discord_user_id, PlayTotal.plays, PlayTotal.ms_played).where(
                PlayTotal.kind == int(kind), PlayTotal.item_id == old
            )
        )
    ]
    await add_aggregates(
        session,
        [{**row, "item_id": old} for row in days],
        [{**row, "item_id": old} for row in totals],
        sign=-1,
    )
    await add_aggregates(
        session,
        [{**row, "item_id": new} for row in days],
        [{**row, "item_id": new} for row in totals],
    )
    if kind == ItemKind.ARTIST:
        await session.execute(
            update(TrackArtist).where(TrackArtist.artist_item_id == old).values(artist_item_id=new)
        )
    elif kind == ItemKind.ALBUM:
        await session.execute(
            update(CatalogTrack).where(CatalogTrack.album_item_id == old).values(album_item_id=new)
        )
    await session.execute(update(CatalogName).where(CatalogName.item_id == old).values(item_id=new))
    await session.execute(delete(CatalogItem).where(CatalogItem.id == old))


async def _drop_double_credits(session: AsyncSession, old: int, new: int) -> None:
    """Tracks credited to both artists would credit `new` twice after a merge: their plays
    already count for `new`, so they leave `old`'s aggregates and `old`'s credit goes."""
    both = list(
        await session.scalars(
            select(TrackArtist.track_item_id)
            .where(TrackArtist.artist_item_id == old)
            .intersect(select(TrackArtist.track_item_id).where(TrackArtist.artist_item_id == new))
        )
    )
    for track in both:
        days, totals = await track_aggregates(session, track)
        artist = int(ItemKind.ARTIST)
        await add_aggregates(
            session,
            [
                {
                    "discord_user_id": u,
                    "kind": artist,
                    "day": d,
                    "item_id": old,
                    "plays": p,
                    "ms_played": m,
                }
                for u, d, p, m in days
            ],
            [
                {"discord_user_id": u, "kind": artist, "item_id": old, "plays": p, "ms_played": m}
                for u, p, m in totals
            ],
            sign=-1,
        )
        await session.execute(
            delete(TrackArtist).where(
                TrackArtist.track_item_id == track, TrackArtist.artist_item_id == old
            )
        )
