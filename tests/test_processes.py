"""Several processes on one database: a web-only process, and two bot processes sharing shards."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, update

from bot.app import Encore
from bot.db.engine import create_engine, make_session_factory, session_scope
from bot.db.migrate import upgrade_to_head
from bot.db.models import SpotifyLink
from bot.db.vault import TokenVault
from bot.domain import LinkStatus
from sandbox.demo import walk_link
from sandbox.discord import DiscordStandIn
from sandbox.discord_client import running_client
from sandbox.discord_interactions import StandInInteraction
from sandbox.discord_models import StandInUser
from sandbox.population import link_members
from sandbox.spotify import SpotifySandbox
from tests.helpers.world import CLIENT_ID, CLIENT_SECRET, encore_settings, free_port, has_text
from tests.test_main import bot_env

KEY = Fernet.generate_key().decode()


def process_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    return bot_env(
        tmp_path,
        TOKEN_ENCRYPTION_KEY=KEY,
        SPOTIFY_CLIENT_ID=CLIENT_ID,
        SPOTIFY_CLIENT_SECRET=CLIENT_SECRET,
        **settings,
    )


async def start(tmp_path: Path, *args: str, **settings: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=process_env(tmp_path, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return out.decode()


async def wait_http(url: str, timeout: float = 30) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(url)
            await asyncio.sleep(0.1)


async def test_web_only_process_completes_a_link_started_by_the_bot(
    tmp_path: Path, db_url: str, discord_standin: DiscordStandIn
) -> None:
    web_port, bot_port = free_port(), free_port()
    redirect = f"http://127.0.0.1:{web_port}/callback"
    async with SpotifySandbox(redirect_uris=[redirect]) as spotify:
        alice = discord_standin.add_user(name="alice")
        guild = discord_standin.add_guild(members=[alice])
        settings = encore_settings(
            data_dir=tmp_path / "data",
            database_url=db_url,
            port=bot_port,
            sandbox=spotify,
            TOKEN_ENCRYPTION_KEY=KEY,
        ).model_copy(update={"SPOTIFY_REDIRECT_URI": redirect})
        web = await start(
            tmp_path,
            "web",
            DATABASE_URL=db_url,
            WEB_PORT=str(web_port),
            SPOTIFY_REDIRECT_URI=redirect,
            SPOTIFY_API_URL=spotify.api_url,
            SPOTIFY_ACCOUNTS_URL=spotify.accounts_url,
            DISCORD_API_URL=discord_standin.api_url,
        )
        try:
            await wait_http(f"http://127.0.0.1:{web_port}/healthz")
            bot = Encore(settings, guild_ready_timeout=0.05)
            bot.run_background_sync = False
            async with running_client(discord_standin, bot):
                interaction = await discord_standin.invoke("link", user=alice, guild_id=guild.id)
                reply = await interaction.wait_message()
                [url] = [b["url"] for b in reply.buttons() if b.get("url")]
                assert url.startswith(f"http://127.0.0.1:{web_port}/link?state=")
                page = await walk_link(spotify, url, spotify_user="user0")
                assert page.status == 200, page.text
                await interaction.wait_message(has_text("Linked to Spotify"), timeout=15)
                async with aiohttp.ClientSession() as http:
                    health = await (await http.get(f"http://127.0.0.1:{web_port}/healthz")).json()
                assert health == {"db_ok": True, "role": "web"}
        finally:
            output = await stop(web)
    assert web.returncode == 0, output
    assert "Traceback" not in output


async def add_linked_members(db_url: str, spotify: SpotifySandbox, count: int) -> list[int]:
    """Members due for a background sync."""
    await upgrade_to_head(db_url)
    engine = create_engine(db_url)
    try:
        sessions = make_session_factory(engine)
        ids = range(10_000, 10_000 + count)
        return await link_members(sessions, spotify, TokenVault([KEY]), ids, synced=False)
    finally:
        await engine.dispose()


async def synced_count(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        async with make_session_factory(engine)() as session:
            query = select(func.count()).where(SpotifyLink.synced_at.is_not(None))
            return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_two_bot_processes_sync_each_member_once(
    tmp_path: Path, pg_url: str, discord_standin: DiscordStandIn
) -> None:
    members = 24
    async with SpotifySandbox(users=0) as spotify:
        await add_linked_members(pg_url, spotify, members)
        discord_standin.recommended_shards = 2
        for _ in range(4):
            discord_standin.add_guild(members=[discord_standin.add_user()])
        processes = [
            await start(
                tmp_path,
                DATABASE_URL=pg_url,
                DISCORD_TOKEN=discord_standin.token,
                DISCORD_API_URL=discord_standin.api_url,
                DISCORD_GATEWAY_URL=discord_standin.gateway_url,
                SPOTIFY_API_URL=spotify.api_url,
                SPOTIFY_ACCOUNTS_URL=spotify.accounts_url,
                SPOTIFY_REDIRECT_URI=f"http://127.0.0.1:{port}/callback",
                WEB_PORT=str(port),
                SHARD_COUNT="2",
                SHARD_IDS=str(shard),
                SPOTIFY_SYNC_BUDGET="1000",
            )
            for shard, port in ((0, free_port()), (1, free_port()))
        ]
        outputs = []
        try:
            for _ in range(600):
                if await synced_count(pg_url) == members:
                    break
                await asyncio.sleep(0.1)
        finally:
            for process in processes:
                outputs.append(await stop(process))
        assert await synced_count(pg_url) == members, outputs
        per_user = Counter(r.user_id for r in spotify.requests if r.path.startswith("/v1/me/top/"))
    assert len(per_user) == members
    assert set(per_user.values()) == {6}, per_user
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
        assert "sync pass: synced" in output, output


def bot_process_settings(
    pg_url: str, discord_standin: DiscordStandIn, spotify: SpotifySandbox, shard: int
) -> dict[str, str]:
    port = free_port()
    return {
        "DATABASE_URL": pg_url,
        "DISCORD_TOKEN": discord_standin.token,
        "DISCORD_API_URL": discord_standin.api_url,
        "DISCORD_GATEWAY_URL": discord_standin.gateway_url,
        "SPOTIFY_API_URL": spotify.api_url,
        "SPOTIFY_ACCOUNTS_URL": spotify.accounts_url,
        "SPOTIFY_REDIRECT_URI": f"http://127.0.0.1:{port}/callback",
        "WEB_PORT": str(port),
        "SHARD_COUNT": "2",
        "SHARD_IDS": str(shard),
    }


@pytest.mark.postgres
async def test_a_429_seen_by_one_process_pauses_the_other_within_a_second(
    tmp_path: Path, pg_url: str, discord_standin: DiscordStandIn
) -> None:
    members, retry_after = 40, 3
    async with SpotifySandbox(users=0) as spotify:
        await add_linked_members(pg_url, spotify, members)
        discord_standin.recommended_shards = 2
        processes = [
            await start(
                tmp_path,
                **bot_process_settings(pg_url, discord_standin, spotify, shard),
                SPOTIFY_SYNC_BUDGET="600",
            )
            for shard in (0, 1)
        ]
        outputs = []
        try:
            for _ in range(300):
                if len(spotify.requests_to("/me/top")) >= 30:
                    break
                await asyncio.sleep(0.05)
            spotify.faults.rate_limit(retry_after=retry_after, path="/me/top")
            for _ in range(600):
                if await synced_count(pg_url) == members:
                    break
                await asyncio.sleep(0.1)
        finally:
            for process in processes:
                outputs.append(await stop(process))
        assert await synced_count(pg_url) == members, outputs
        top = spotify.requests_to("/me/top")
    [limited] = [r for r in top if r.status == 429]
    paused = [r for r in top if limited.at + 1 <= r.at < limited.at + retry_after]
    assert paused == [], [round(r.at - limited.at, 2) for r in paused]
    assert any(r.at >= limited.at + retry_after for r in top)
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output
        assert "sync pass: synced" in output, output


@pytest.mark.postgres
async def test_two_processes_refreshing_one_member_keep_the_link(
    tmp_path: Path, pg_url: str, discord_standin: DiscordStandIn
) -> None:
    """A member's commands in two guilds on two shards (two processes) both find the access
    token expired; with refresh-token rotation only one refresh may happen."""
    async with SpotifySandbox(users=0) as spotify:
        spotify.accounts.refresh_token_rotation = "always"
        [member_id] = await add_linked_members(pg_url, spotify, 1)
        engine = create_engine(pg_url)
        try:
            async with session_scope(make_session_factory(engine)) as session:
                await session.execute(
                    update(SpotifyLink).values(
                        access_expires_at=datetime.now(UTC) - timedelta(minutes=1),
                        # nothing in the background may refresh first: neither the sync
                        # nor the recently-played poller is due
                        sync_due_at=datetime.now(UTC) + timedelta(days=1),
                        recent_due_at=datetime.now(UTC) + timedelta(days=1),
                    )
                )
        finally:
            await engine.dispose()
        discord_standin.recommended_shards = 2
        member = discord_standin.add_user(member_id)
        guilds: dict[int, int] = {}
        while len(guilds) < 2:
            guild = discord_standin.add_guild(members=[member])
            guilds.setdefault((guild.id >> 22) % 2, guild.id)
        processes = [
            await start(tmp_path, **bot_process_settings(pg_url, discord_standin, spotify, shard))
            for shard in (0, 1)
        ]
        outputs = []
        try:
            await discord_standin.wait_until_ready(30)
            spotify.faults.latency(0.5, path="/api/token")
            spotify.clear_requests()
            interactions = [
                await invoke_when_registered(discord_standin, "playlists", member, guild_id)
                for guild_id in guilds.values()
            ]
            replies = [await i.wait_message(timeout=20) for i in interactions]
        finally:
            for process in processes:
                outputs.append(await stop(process))
        refreshes = spotify.requests_to("/api/token")
    assert len(refreshes) == 1, outputs
    assert all(r.status == 200 for r in spotify.requests_to("/me/playlists")), outputs
    assert len(spotify.requests_to("/me/playlists")) == 2
    assert all("/link" not in reply.text() for reply in replies), [r.text() for r in replies]
    engine = create_engine(pg_url)
    try:
        async with make_session_factory(engine)() as session:
            link = await session.get(SpotifyLink, member_id)
            assert link is not None and link.status is LinkStatus.ACTIVE
    finally:
        await engine.dispose()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output


async def invoke_when_registered(
    discord_standin: DiscordStandIn, command: str, user: StandInUser, guild_id: int
) -> StandInInteraction:
    for _ in range(300):
        try:
            return await discord_standin.invoke(command, user=user, guild_id=guild_id)
        except (LookupError, RuntimeError):
            await asyncio.sleep(0.1)
    raise TimeoutError(f"/{command} never became available")
