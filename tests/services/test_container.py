"""The services built once for a process."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope
from bot.db.models import SpotifyLimits, SpotifyLink
from bot.db.vault import TokenVault
from bot.domain import PlayIn, PlaySource
from bot.services.container import Services, start_url
from bot.services.enrichment import EnrichOutcome
from bot.services.recent import PollOutcome
from bot.store.plays import record_plays
from sandbox.browser import consent
from sandbox.demo import encore_settings
from sandbox.population import linked_member_rows
from sandbox.spotify import SpotifySandbox


def test_the_link_starter_is_on_the_redirect_uris_origin(
    spotify_sandbox: SpotifySandbox, tmp_path: Path
) -> None:
    settings = encore_settings(
        data_dir=tmp_path, database_url="sqlite://", port=8123, sandbox=spotify_sandbox
    )
    assert start_url(settings) == "http://127.0.0.1:8123/link"


async def test_a_link_made_by_linking_is_known_to_accounts_at_once(
    spotify_sandbox: SpotifySandbox,
    db_sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    settings = encore_settings(
        data_dir=tmp_path, database_url="sqlite://", port=8123, sandbox=spotify_sandbox
    )
    vault = TokenVault([Fernet.generate_key().decode()])
    services = Services.build(settings, http, db_sessions, vault)
    url = await services.linking.start(
        1, guild_id=None, application_id=None, interaction_token=None
    )
    assert url.startswith("http://127.0.0.1:8123/link?state=")
    spotify_sandbox.authorizing_user = "user0"
    state = parse_qs(urlsplit(url).query)["state"][0]
    page = await services.linking.open_page(state, None)
    authorize = await services.linking.authorize_url(state, page.browser_secret, page.form_token)
    callback = parse_qs(urlsplit(await consent(http, authorize)).query)
    await services.linking.complete(
        state=callback["state"][0],
        code=callback["code"][0],
        error=None,
        browser_secret=page.browser_secret,
    )
    assert 1 in services.accounts.linked


async def test_the_built_listening_loops_poll_and_enrich_through_the_sandbox(
    spotify_sandbox: SpotifySandbox,
    db_sessions: async_sessionmaker[AsyncSession],
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    settings = encore_settings(
        data_dir=tmp_path, database_url="sqlite://", port=8123, sandbox=spotify_sandbox
    )
    vault = TokenVault([Fernet.generate_key().decode()])
    services = Services.build(settings, http, db_sessions, vault)
    [row] = linked_member_rows(spotify_sandbox, vault, [1])
    async with session_scope(db_sessions) as session:
        await session.execute(insert(SpotifyLink), [row])
    track_id = spotify_sandbox.track_ids()[0]
    spotify_sandbox.play(str(row["spotify_user_id"]), track_id, datetime(2026, 11, 1, tzinfo=UTC))
    seen = spotify_sandbox.presence_track(spotify_sandbox.track_ids()[1])
    async with session_scope(db_sessions, shared_writes=True) as session:
        await record_plays(
            session,
            [
                PlayIn(
                    discord_user_id=2,
                    started_at=datetime(2026, 11, 2, tzinfo=UTC),
                    ms_played=seen.duration_ms,
                    source=PlaySource.PRESENCE,
                    track_name=seen.title,
                    artist_names=seen.artists,
                    track_id=seen.id,
                )
            ],
        )

    assert await services.recent.run_once() == Counter({PollOutcome.POLLED: 1})
    assert await services.enrichment.run_once() == Counter({EnrichOutcome.ENRICHED: 1})
    async with db_sessions() as session:  # both spent their schedules of the shared limits
        scheduled = dict(
            (await session.execute(select(SpotifyLimits.name, SpotifyLimits.sync_next_at))).all()
        )
    assert scheduled["spotify:recent"] > 0
    assert scheduled["spotify:enrich"] > 0
