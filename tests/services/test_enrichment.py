"""Enrichment of tracks seen without their artists' IDs, against the Spotify sandbox."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import DEFAULT_REDIRECT_URI
from bot.db.engine import session_scope
from bot.domain import ItemKind, PlayIn, PlaySource
from bot.services.enrichment import EnrichOutcome, TrackEnricher
from bot.services.spending import BackgroundSpender
from bot.spotify.client import AppTokens
from bot.spotify.errors import OAuthError, RateLimited
from bot.spotify.oauth import SpotifyOAuth
from bot.store.plays import record_plays, top_items, tracks_missing_ids
from sandbox.spotify import SpotifySandbox
from tests.helpers.accounts import Accounts, build_accounts

TRACKS = "/tracks/"
UNKNOWN_ID = "0000000000000000000000"
STARTED = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
def stack(
    spotify_sandbox: SpotifySandbox,
    db_sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
) -> Accounts:
    return build_accounts(spotify_sandbox, db_sessions, http)


def enricher(stack: Accounts, *, budget: int = 1000) -> TrackEnricher:
    tokens = AppTokens(stack.oauth)
    return TrackEnricher(
        stack.sessions,
        lambda: stack.client.app(tokens),
        BackgroundSpender(stack.client, budget),
        batch=2,
    )


def seen_in_presence(stack: Accounts, track_id: str, minutes: int = 0) -> PlayIn:
    track = stack.sandbox.presence_track(track_id)
    return PlayIn(
        discord_user_id=1,
        started_at=STARTED + timedelta(minutes=minutes),
        ms_played=track.duration_ms,
        source=PlaySource.PRESENCE,
        track_name=track.title,
        artist_names=track.artists,
        album_name=track.album,
        track_id=track.id,
    )


async def record(stack: Accounts, *plays: PlayIn) -> None:
    async with session_scope(stack.sessions, shared_writes=True) as session:
        await record_plays(session, plays)


async def missing(stack: Accounts) -> list[str]:
    async with stack.sessions() as session:
        return [m.spotify_id for m in await tracks_missing_ids(session, 100)]


async def test_tracks_get_their_artists_ids_and_name_only_artists_merge(stack: Accounts) -> None:
    track_id = stack.sandbox.track_ids()[0]
    track = stack.sandbox.catalog.tracks[track_id]
    artist = stack.sandbox.catalog.artists[track.artist_ids[0]]
    presence = seen_in_presence(stack, track_id)
    imported = PlayIn(
        discord_user_id=1,
        started_at=STARTED + timedelta(hours=1),
        ms_played=200_000,
        source=PlaySource.IMPORT,
        track_name="A song only the import knows",
        artist_names=(artist.name,),
    )
    await record(stack, presence, imported)
    assert await missing(stack) == [track_id]

    assert await enricher(stack).run_once() == Counter({EnrichOutcome.ENRICHED: 1})

    assert await missing(stack) == []
    assert [r.path for r in stack.sandbox.requests_to(TRACKS)] == [f"/v1/tracks/{track_id}"]
    async with stack.sessions() as session:
        artists = await top_items(session, [1], ItemKind.ARTIST, None, 10)
        albums = await top_items(session, [1], ItemKind.ALBUM, None, 10)
    by_id = {item.spotify_id: plays for item, plays in artists}
    assert by_id[artist.id] == 2
    assert all(spotify_id is not None for spotify_id in by_id)
    assert [item.spotify_id for item, _ in albums] == [track.album_id]


async def test_a_track_spotify_does_not_know_is_not_asked_for_again(stack: Accounts) -> None:
    known = stack.sandbox.track_ids()[1]
    unknown = replace(seen_in_presence(stack, known, minutes=10), track_id=UNKNOWN_ID)
    await record(stack, seen_in_presence(stack, known), unknown)

    first = await enricher(stack).run_once()
    second = await enricher(stack).run_once()

    assert first == Counter({EnrichOutcome.ENRICHED: 1, EnrichOutcome.UNKNOWN: 1})
    assert second == Counter()
    assert len(stack.sandbox.requests_to(TRACKS)) == 2
    assert await missing(stack) == []


async def test_tracks_known_only_by_name_are_never_asked_for(stack: Accounts) -> None:
    await record(
        stack,
        PlayIn(
            discord_user_id=1,
            started_at=STARTED,
            ms_played=200_000,
            source=PlaySource.IMPORT,
            track_name="Untitled",
            artist_names=("Somebody",),
        ),
    )

    assert await enricher(stack).run_once() == Counter()
    assert stack.sandbox.requests_to(TRACKS) == []


async def test_no_request_is_sent_while_a_rate_limit_cools_down(stack: Accounts) -> None:
    tracks = stack.sandbox.track_ids()[:3]
    await record(stack, *(seen_in_presence(stack, t, minutes=10 * n) for n, t in enumerate(tracks)))
    stack.sandbox.faults.rate_limit(1.0, count=1, path=TRACKS)

    assert await enricher(stack).run_once() == Counter({EnrichOutcome.ENRICHED: 3})

    requests = stack.sandbox.requests_to(TRACKS)
    [limited] = [request for request in requests if request.status == 429]
    assert [r for r in requests if limited.at < r.at < limited.at + 1.0] == []
    assert await missing(stack) == []


async def test_a_long_rate_limit_ends_the_pass_and_keeps_what_was_learnt(
    stack: Accounts,
) -> None:
    stack.client.background_max_wait = 0.5
    first, second = stack.sandbox.track_ids()[:2]
    await record(stack, seen_in_presence(stack, first), seen_in_presence(stack, second, 10))
    stack.sandbox.faults.rate_limit(5.0, count=1, path=f"{TRACKS}{second}")

    with pytest.raises(RateLimited):
        await enricher(stack).run_once()

    assert await missing(stack) == [second]


async def test_without_an_app_token_the_pass_ends_at_once(
    stack: Accounts, http: aiohttp.ClientSession
) -> None:
    await record(
        stack,
        *(seen_in_presence(stack, t, 10 * n) for n, t in enumerate(stack.sandbox.track_ids()[:2])),
    )
    refused = SpotifyOAuth(
        http,
        client_id=stack.sandbox.accounts.client_id,
        client_secret="not-the-secret",
        redirect_uri=DEFAULT_REDIRECT_URI,
        accounts_url=stack.sandbox.accounts_url,
    )
    tokens = AppTokens(refused)
    enrich = TrackEnricher(
        stack.sessions, lambda: stack.client.app(tokens), BackgroundSpender(stack.client, 1000)
    )

    with pytest.raises(OAuthError):
        await enrich.run_once()

    assert stack.sandbox.requests_to(TRACKS) == []
    assert len(await missing(stack)) == 2
