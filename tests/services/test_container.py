"""The services built once for a process."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.vault import TokenVault
from bot.services.container import Services, start_url
from sandbox.browser import consent
from sandbox.demo import encore_settings
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
