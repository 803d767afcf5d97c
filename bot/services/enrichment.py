"""Enrichment: tracks known by Spotify ID but not their artists' and album's (seen through
presence or imports) learn them from a single `GET /tracks/{id}` with the app token (new apps
have no batch read), within this source's share of the budget and never during a cooldown.
The catalog keeps the answer (`attach_spotify_ids`), which also merges artists and albums known
only by name into the identified ones. Tracks without an ID stay grouped by name; a track
Spotify does not know is not asked for again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter
from collections.abc import Callable
from enum import StrEnum

from bot.db.engine import Sessions, session_scope
from bot.services.spending import BackgroundSpender
from bot.spotify.client import SpotifyAppApi
from bot.spotify.errors import (
    BadRequest,
    NotFound,
    OAuthError,
    QuotaExceeded,
    RateLimited,
    SpotifyError,
)
from bot.spotify.models import Track
from bot.store.plays import TrackIds, keep_enrichment, tracks_missing_ids

log = logging.getLogger(__name__)

BATCH = 20
IDLE_SECONDS = 300.0
RATE_LIMITED_SECONDS = 60.0


class EnrichOutcome(StrEnum):
    ENRICHED = "enriched"
    UNKNOWN = "unknown"  # Spotify does not know the ID
    FAILED = "failed"  # tried again in a later pass


def track_ids(asked_id: str, track: Track) -> TrackIds:
    """What the catalog keeps of a track's answer, under the ID it was asked by (Spotify may
    answer with a relinked track)."""
    album = track.album
    return TrackIds(
        track_id=asked_id,
        artists=tuple((artist.id, artist.name) for artist in track.artists),
        album=(album.id, album.name) if album is not None else None,
        image_url=album.image_url if album is not None else None,
        duration_ms=track.duration_ms,
    )


class TrackEnricher:
    def __init__(
        self,
        sessions: Sessions,
        app_api: Callable[[], SpotifyAppApi],
        spender: BackgroundSpender,
        *,
        batch: int = BATCH,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._app_api = app_api
        self._spender = spender
        self._batch = batch
        self._idle = idle_seconds
        self._stopping = asyncio.Event()

    async def run_forever(self) -> None:
        """Enrich what is missing, then look again every `idle_seconds`."""
        while not self._stopping.is_set():
            delay = self._idle
            try:
                outcomes = await self.run_once()
                if outcomes:
                    log.info(
                        "enrichment pass: %s", ", ".join(f"{k} {v}" for k, v in outcomes.items())
                    )
            except (RateLimited, QuotaExceeded):
                delay = RATE_LIMITED_SECONDS
            except OAuthError as exc:
                log.warning("enrichment paused: no app token (%s)", type(exc).__name__)
            except Exception:
                log.exception("enrichment pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    def stop(self) -> None:
        self._stopping.set()

    async def run_once(self, max_tracks: int | None = None) -> Counter[EnrichOutcome]:
        """Enrich the tracks missing IDs (at most `max_tracks`), each asked once per pass. A
        rate limit longer than the client waits out (RateLimited) or no app token (OAuthError)
        ends the pass, keeping what was learnt."""
        outcomes: Counter[EnrichOutcome] = Counter()
        tried: set[str] = set()
        api = self._app_api()
        while not self._stopping.is_set():
            left = None if max_tracks is None else max_tracks - len(tried)
            if left is not None and left <= 0:
                break
            async with self._sessions() as session:
                missing = await tracks_missing_ids(session, self._batch + len(tried))
            todo = [m.spotify_id for m in missing if m.spotify_id not in tried][: left or None]
            if not todo:
                break
            found: list[TrackIds] = []
            unknown: list[str] = []
            for spotify_id in todo:
                tried.add(spotify_id)
                try:
                    track = await self._spender.call(functools.partial(api.track, spotify_id))
                except (NotFound, BadRequest):
                    unknown.append(spotify_id)
                    continue
                except (RateLimited, QuotaExceeded, OAuthError):
                    await self._keep(found, unknown)
                    raise
                except SpotifyError as exc:
                    log.warning("enriching track %s failed: %s", spotify_id, type(exc).__name__)
                    outcomes[EnrichOutcome.FAILED] += 1
                    continue
                found.append(track_ids(spotify_id, track))
            await self._keep(found, unknown)
            outcomes[EnrichOutcome.ENRICHED] += len(found)
            outcomes[EnrichOutcome.UNKNOWN] += len(unknown)
        return outcomes

    async def _keep(self, found: list[TrackIds], unknown: list[str]) -> None:
        if not found and not unknown:
            return
        async with session_scope(self._sessions, shared_writes=True) as session:
            await keep_enrichment(session, found, unknown)
