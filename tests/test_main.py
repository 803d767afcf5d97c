"""`python -m bot` as a member of the public runs it: a real process, stand-ins on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.process.diagnostics import application_id_from_token
from sandbox.discord import DiscordStandIn
from sandbox.spotify import SpotifySandbox
from tests.helpers.world import CLIENT_ID, CLIENT_SECRET, free_port

ROOT = Path(__file__).resolve().parents[1]


def bot_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a `python -m bot` child: ours without Discord/Spotify settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SPOTIFY_"))}
    env.update({"DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "INFO", **settings})
    return env


async def run_bot(
    tmp_path: Path,
    *args: str,
    timeout: float = 30,  # noqa: ASYNC109
    **settings: str,
) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=bot_env(tmp_path, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_missing_credentials_are_named_without_a_traceback(tmp_path: Path) -> None:
    code, out = await run_bot(tmp_path)
    assert code != 0
    for name in ("DISCORD_TOKEN", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"):
        assert name in out
    assert "Traceback" not in out


async def test_invalid_setting_is_refused_with_reason(tmp_path: Path) -> None:
    code, out = await run_bot(
        tmp_path, SPOTIFY_REDIRECT_URI="http://encore.example.org/callback", DISCORD_TOKEN="x"
    )
    assert code == 2
    assert "SPOTIFY_REDIRECT_URI" in out and "https" in out
    assert "Traceback" not in out


async def test_invite_prints_url_with_scopes_and_permissions(tmp_path: Path) -> None:
    token = "MTA0NTY3ODkwMTIzNDU2Nzg5MA.Gx1234.abcdefghijklmnopqrstuvwxyz"
    code, out = await run_bot(
        tmp_path, "invite", DISCORD_TOKEN=token, SPOTIFY_CLIENT_ID="c", SPOTIFY_CLIENT_SECRET="s"
    )
    assert code == 0
    assert f"client_id={application_id_from_token(token)}" in out
    assert "scope=bot+applications.commands" in out
    assert "permissions=" in out


async def test_check_reports_refused_credentials(tmp_path: Path) -> None:
    async with DiscordStandIn() as discord, SpotifySandbox() as spotify:
        code, out = await run_bot(
            tmp_path,
            "check",
            DISCORD_TOKEN="wrong-token",
            DISCORD_API_URL=discord.api_url,
            SPOTIFY_CLIENT_ID=CLIENT_ID,
            SPOTIFY_CLIENT_SECRET="wrong-secret",
            SPOTIFY_ACCOUNTS_URL=spotify.accounts_url,
        )
    assert code == 1
    assert "DISCORD_TOKEN" in out
    assert "SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET" in out
    assert "wrong-secret" not in out and "wrong-token" not in out


async def test_check_passes_with_good_credentials(tmp_path: Path) -> None:
    async with DiscordStandIn() as discord, SpotifySandbox() as spotify:
        code, out = await run_bot(
            tmp_path,
            "check",
            DISCORD_TOKEN=discord.token,
            DISCORD_API_URL=discord.api_url,
            SPOTIFY_CLIENT_ID=CLIENT_ID,
            SPOTIFY_CLIENT_SECRET=CLIENT_SECRET,
            SPOTIFY_ACCOUNTS_URL=spotify.accounts_url,
        )
    assert code == 0, out
    assert "All checks passed" in out


async def test_migrate_command(tmp_path: Path) -> None:
    code, out = await run_bot(tmp_path, "migrate")
    assert code == 0, out
    assert (tmp_path / "data" / "encore.db").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_runs_against_stand_ins_and_stops_cleanly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_port()
    async with DiscordStandIn() as discord, SpotifySandbox() as spotify:
        discord.add_guild(members=[discord.add_user(name="alice")])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=bot_env(
                tmp_path,
                DISCORD_TOKEN=discord.token,
                DISCORD_API_URL=discord.api_url,
                DISCORD_GATEWAY_URL=discord.gateway_url,
                SPOTIFY_CLIENT_ID=CLIENT_ID,
                SPOTIFY_CLIENT_SECRET=CLIENT_SECRET,
                SPOTIFY_API_URL=spotify.api_url,
                SPOTIFY_ACCOUNTS_URL=spotify.accounts_url,
                SPOTIFY_REDIRECT_URI=f"http://127.0.0.1:{port}/callback",
                WEB_PORT=str(port),
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        early: list[bytes] = []
        try:
            await discord.wait_until_ready(timeout=30)
            assert discord.registered_commands()
            assert process.stdout is not None
            async with asyncio.timeout(30):
                while b"froze the" not in (line := await process.stdout.readline()):
                    assert line, b"".join(early).decode()
                    early.append(line)
            process.send_signal(sig)
            out, _ = await asyncio.wait_for(process.communicate(), 30)
            out = b"".join(early) + out
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = out.decode()
    assert process.returncode == 0, text
    assert "stopped" in text
    assert "Traceback" not in text


WHAT_A_RUN_IMPORTS = """
import sys
import bot.process.runner
from bot.app import EXTENSIONS
for extension in EXTENSIONS:
    __import__(extension)
print(" ".join(m for m in ("alembic", "PIL", "sqlalchemy.dialects.postgresql") if m in sys.modules))
"""


async def test_the_bot_and_its_cogs_import_nothing_they_may_never_use(tmp_path: Path) -> None:
    """Alembic (needed only when a migration is due), Pillow (only once a /chart is drawn) and
    SQLAlchemy's PostgreSQL dialect (not on SQLite) cost about 18 MB resident together."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", WHAT_A_RUN_IMPORTS),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == ""


@pytest.mark.parametrize(
    ("args", "settings", "process"),
    [
        (("web",), {}, "web-only"),
        ((), {"DISCORD_TOKEN": "x", "SHARD_COUNT": "2"}, "sharded"),
    ],
)
async def test_a_process_sharing_the_database_needs_the_encryption_key(
    tmp_path: Path, args: tuple[str, ...], settings: dict[str, str], process: str
) -> None:
    code, out = await run_bot(
        tmp_path, *args, SPOTIFY_CLIENT_ID="c", SPOTIFY_CLIENT_SECRET="s", **settings
    )
    assert code == 2, out
    assert process in out and "TOKEN_ENCRYPTION_KEY" in out and "same" in out
    assert "Traceback" not in out
    assert not (tmp_path / "data" / "encryption.key").exists()


async def test_a_key_the_database_was_not_written_with_is_refused(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    written_with, other = (Fernet.generate_key().decode() for _ in range(2))
    code, out = await run_bot(tmp_path, "migrate")
    assert code == 0, out
    from bot.db.engine import create_engine, make_session_factory
    from bot.db.keycheck import check_key_fingerprints

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'encore.db'}")
    try:
        await check_key_fingerprints(make_session_factory(engine), [written_with])
    finally:
        await engine.dispose()

    code, out = await run_bot(
        tmp_path,
        "web",
        SPOTIFY_CLIENT_ID="c",
        SPOTIFY_CLIENT_SECRET="s",
        TOKEN_ENCRYPTION_KEY=other,
        WEB_PORT="0",
    )
    assert code == 1, out
    assert "does not match the database" in out and "genkey" in out
    assert other not in out and written_with not in out
    assert "Traceback" not in out


@pytest.mark.parametrize("args", [(), ("web",), ("invite",)])
async def test_scripts_run_exits_non_zero_when_settings_are_missing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A service manager or a calling script must see the failure, not just the text."""
    if (ROOT / ".env").exists():
        pytest.skip("the checkout's .env would supply the settings scripts/run reads")
    process = await asyncio.create_subprocess_exec(
        str(ROOT / "scripts" / "run"),
        *args,
        env=bot_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 2, out.decode()
    assert "SPOTIFY_CLIENT_ID" in out.decode()
