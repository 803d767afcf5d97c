"""Storing a member's streaming-history import: batch after batch of one member's plays, each
batch in its own transaction, with the rules of `record_plays` (bot/store/plays.py).

An import names the same few thousand tracks again and again, hundreds of thousands of times.
`record_plays` resolves each distinct description of a track in a batch through the catalog
(names, IDs, credits, length); here each is resolved once, the first time a batch holds it,
and its catalog id remembered. That is exact, not a cache that can go stale: a track's catalog
id never changes (tracks are never merged or deleted, and a name key keeps its track), and an
imported play brings nothing that would change a known track (no length, image or IDs of its
artists). Ids are remembered only once their transaction committed. Lengths, which enrichment
may learn meanwhile, are read for every batch, and the duplicate check and the writes are those
of `record_plays` (`new_plays`, `store_plays`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import lock_shared_writes
from bot.domain import HistoryPlay, PlayIn, PlaySource
from bot.store.play_writes import PlayValues, store_plays, take_write_lock, track_lengths
from bot.store.plays import RecordResult, catalog_for, new_plays

TrackDescription = tuple[str, str, str | None, str | None]
"""(track name, artist name, album name, Spotify ID): `HistoryPlay` less its time and ms."""
REMEMBERED_TRACKS = 100_000
"""Descriptions remembered at most (a few hundred bytes each); past that the memory starts over."""
_IMPORT = int(PlaySource.IMPORT)


class HistoryRecorder:
    """Records imported plays (`record`), remembering the catalog id of every track
    description it stored, across batches and imports of this process."""

    def __init__(self, limit: int = REMEMBERED_TRACKS) -> None:
        self._tracks: dict[TrackDescription, int] = {}
        self._limit = limit

    async def record(
        self, session: AsyncSession, discord_user_id: int, plays: Sequence[HistoryPlay]
    ) -> RecordResult:
        """Store `discord_user_id`'s imported plays inside the caller's transaction, as
        `record_plays` would store them as `PlayIn`s of source IMPORT."""
        if not plays:
            return RecordResult(0, 0)
        for play in plays:
            if play.started_at.tzinfo is not UTC or play.ms_played < 0:
                plays = [_normal(play) for play in plays]
                break
        await lock_shared_writes(session)
        await take_write_lock(session)
        descriptions: list[TrackDescription] = [play[2:] for play in plays]
        known = self._tracks
        missing = {d: p for d, p in zip(descriptions, plays, strict=True) if d not in known}
        learnt = await self._resolve(session, discord_user_id, missing)
        track_of = known | learnt if learnt else known
        candidates: list[PlayValues] = [
            (discord_user_id, play[0], track_of[description], play[1], _IMPORT)
            for play, description in zip(plays, descriptions, strict=True)
        ]
        ids = {candidate[2] for candidate in candidates}
        durations = await track_lengths(session, ids)
        fresh = await new_plays(session, candidates, durations)
        added = await store_plays(session, fresh)
        if learnt:
            event.listen(
                session.sync_session, "after_commit", lambda _: self._remember(learnt), once=True
            )
        return RecordResult(added=added, duplicates=len(plays) - added)

    async def _resolve(
        self,
        session: AsyncSession,
        discord_user_id: int,
        missing: dict[TrackDescription, HistoryPlay],
    ) -> dict[TrackDescription, int]:
        if not missing:
            return {}
        plays = [
            PlayIn(
                discord_user_id=discord_user_id,
                started_at=play.started_at,
                ms_played=play.ms_played,
                source=PlaySource.IMPORT,
                track_name=play.track_name,
                artist_names=(play.artist_name,),
                album_name=play.album_name,
                track_id=play.track_id,
            )
            for play in missing.values()
        ]
        track_ids, _ = await catalog_for(session, plays, datetime.now(UTC))
        return dict(zip(missing, track_ids, strict=True))

    def _remember(self, learnt: dict[TrackDescription, int]) -> None:
        if len(self._tracks) + len(learnt) > self._limit:
            self._tracks.clear()
        self._tracks.update(learnt)


def _normal(play: HistoryPlay) -> HistoryPlay:
    """The play with its start in UTC and no negative ms, as `record_plays` takes it."""
    if play.started_at.tzinfo is None:
        raise ValueError("naive started_at given to HistoryRecorder.record")
    return play._replace(
        started_at=play.started_at.astimezone(UTC), ms_played=max(play.ms_played, 0)
    )
