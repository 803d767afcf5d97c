"""Several processes on one database: a web-only process, and two bot processes sharing shards."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bot.app import Encore
from bot.db.engine import create_engine, make_session_factory
from bot.db.migrate import upgrade_to_head
from bot.db.models import SpotifyLink
from bot.db.vault import TokenVault
from sandbox.demo import walk_link
from sandbox.discord import DiscordStandIn
from sandbox.discord_client import running_client
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
