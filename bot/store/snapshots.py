"""Stored top lists: the narrow catalog, and atomic replacement of a member's snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import lock_shared_writes, upsert_insert
from bot.db.models import CatalogItem, TopItem, TopSnapshot
from bot.domain import ItemKind, TimeRange
from bot.services.items import ItemSummary
from bot.spotify.ids import SpotifyKind
from bot.store.scores import count_list, withdraw_list

CATALOG_KINDS: dict[SpotifyKind, ItemKind] = {
    SpotifyKind.ARTIST: ItemKind.ARTIST,
    SpotifyKind.TRACK: ItemKind.TRACK,
    SpotifyKind.ALBUM: ItemKind.ALBUM,
}
SPOTIFY_KINDS = {code: kind for kind, code in CATALOG_KINDS.items()}


@dataclass(frozen=True)
class StoredTop:
    fetched_at: datetime
    items: list[ItemSummary]


def summary_of(row: CatalogItem) -> ItemSummary:
    return ItemSummary(
        kind=SPOTIFY_KINDS[ItemKind(row.kind)],
        id=row.spotify_id,
        name=row.name,
        subtitle=row.subtitle,
        image_url=row.image_url,
    )


async def upsert_catalog(
    session: AsyncSession, items: Sequence[ItemSummary], now: datetime
) -> dict[tuple[int, str], int]:
    """Insert or refresh catalog rows; returns (kind, spotify_id) -> catalog id."""
    if not items:
        return {}
    await lock_shared_writes(session)
    unique = {(CATALOG_KINDS[i.kind], i.id): i for i in items}
    rows = [
        {
            "kind": int(kind),
            "spotify_id": spotify_id,
            "name": item.name[:512],
            "subtitle": (item.subtitle or "")[:512] or None,
            "image_url": item.image_url,
            "updated_at": now,
        }
        for (kind, spotify_id), item in sorted(unique.items())
    ]
    table = CatalogItem.__table__
    base = upsert_insert(session)(table)
    stmt = base.on_conflict_do_update(
        index_elements=["kind", "spotify_id"],
        set_={
            "name": base.excluded.name,
            "subtitle": base.excluded.subtitle,
            "image_url": base.excluded.image_url,
            "updated_at": base.excluded.updated_at,
        },
    ).returning(table.c.id, table.c.kind, table.c.spotify_id)
    result = await session.execute(stmt, rows)
    return {(kind, spotify_id): row_id for row_id, kind, spotify_id in result.all()}


async def replace_snapshot(
    session: AsyncSession,
    discord_user_id: int,
    kind: ItemKind,
    time_range: TimeRange,
    items: Sequence[ItemSummary],
    now: datetime,
) -> None:
    """Swap in a new top list inside the caller's transaction (all or nothing).

    Repeated items keep their first rank only. Guild scores follow: the old list is withdrawn
    before its items go, the new one counted.
    """
    items = list({(item.kind, item.id): item for item in items}.values())
    ids = await upsert_catalog(session, items, now)
    await withdraw_list(session, discord_user_id, kind, time_range)
    await session.execute(
        delete(TopItem).where(
            TopItem.discord_user_id == discord_user_id,
            TopItem.kind == int(kind),
            TopItem.time_range == int(time_range),
        )
    )
    snapshot = await session.get(TopSnapshot, (discord_user_id, int(kind), int(time_range)))
    if snapshot is None:
        snapshot = TopSnapshot(
            discord_user_id=discord_user_id, kind=int(kind), time_range=int(time_range)
        )
        session.add(snapshot)
    snapshot.fetched_at = now
    snapshot.item_count = len(items)
    await session.flush()
    session.add_all(
        TopItem(
            discord_user_id=discord_user_id,
            kind=int(kind),
            time_range=int(time_range),
            rank=rank,
            item_id=ids[(CATALOG_KINDS[item.kind], item.id)],
        )
        for rank, item in enumerate(items, start=1)
    )
    await count_list(session, discord_user_id, kind, time_range)


async def read_snapshot(
    session: AsyncSession, discord_user_id: int, kind: ItemKind, time_range: TimeRange
) -> StoredTop | None:
    snapshot = await session.get(TopSnapshot, (discord_user_id, int(kind), int(time_range)))
    if snapshot is None:
        return None
    rows = await session.scalars(
        select(CatalogItem)
        .join(TopItem, TopItem.item_id == CatalogItem.id)
        .where(
            TopItem.discord_user_id == discord_user_id,
            TopItem.kind == int(kind),
            TopItem.time_range == int(time_range),
        )
        .order_by(TopItem.rank)
    )
    return StoredTop(snapshot.fetched_at, [summary_of(row) for row in rows])
