"""`python -m bot demo`: the real bot's tour against the stand-ins, in-process and as a process."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from sandbox import demo
from sandbox.demo import LOG_FILE, run_demo
from sandbox.openapi_check import SpotifyOpenApi
from sandbox.spotify import SpotifySandbox
from tests.helpers.secrets import leaks
from tests.helpers.spotify_sandbox import exchange_problems


@pytest.fixture
def demo_sandboxes(monkeypatch: pytest.MonkeyPatch) -> list[SpotifySandbox]:
    """The sandboxes the demo starts, kept for the test to look at afterwards."""
    started: list[SpotifySandbox] = []

    class Recording(SpotifySandbox):
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            started.append(self)

    monkeypatch.setattr(demo, "SpotifySandbox", Recording)
    return started


class RefusingSandbox(SpotifySandbox):
    """A sandbox whose first consent page is answered with "Cancel"."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.deny_next_authorization()


def kept_folder(parent: Path) -> tuple[Path, str]:
    """The one folder the demo left under `parent`, and its bot log."""
    [workdir] = parent.iterdir()
    return workdir, (workdir / LOG_FILE).read_text()


def after(text: str, marker: str) -> str:
    """The transcript from `marker` (a command line) up to the next command line."""
    assert marker in text, text
    rest = text.split(marker, 1)[1]
    return rest.split(" ▸ ", 1)[0]


async def test_tour_prints_each_steps_real_reply(
    tmp_path: Path,
    demo_sandboxes: list[SpotifySandbox],
    optional_spotify_openapi: SpotifyOpenApi | None,
) -> None:
    out = io.StringIO()

    code = await run_demo(out, keep=True, parent=tmp_path)

    text = out.getvalue()
    assert code == 0, text
    [spotify] = demo_sandboxes
    for name, spotify_user in demo.CAST:
        linked = after(text, f"{name} ▸ /link")
        assert "Link Spotify" in linked
        assert f"Linked to Spotify as {spotify.users[spotify_user].display_name}" in linked
    top = after(text, "alice ▸ /top artists")
    favourite = spotify.users["user0"].top_artists["medium_term"][0]
    assert "alice's top artists" in top
    assert f"1. {spotify.catalog.artists[favourite].name}" in top
    assert "3 members" in after(text, "bob ▸ /leaderboard artists")
    compat = after(text, "carol ▸ /compat member:@alice")
    assert "% taste match" in compat and "carol × alice" in compat
    share = after(text, "alice ▸ /share item:spotify:track:")
    assert "alice shared a track" in share and "[💚 Save to my Spotify]" in share
    saved = after(text, "bob ▸ presses [💚 Save to my Spotify]")
    assert "(only bob sees this)" in saved and "Saved this track" in saved
    assert "Saved from here by 1 member" in saved
    shared_id = share.split("\n", 1)[0].split()[0]
    assert f"spotify:track:{shared_id}" in spotify.users["user1"].library
    assert "\x1b[" not in text
    assert "state=" not in text

    imported = after(text, "alice ▸ /import")
    added = re.search(r"Imported your Spotify history: ([\d,]+) plays added", imported)
    assert added, imported
    board = after(text, "bob ▸ /leaderboard artists period:month")
    assert "by plays · last 30 days" in board and "4 members" in board
    heard = spotify.catalog.tracks[spotify.track_ids()[0]].name
    who = after(text, f"bob ▸ /whoknows track track:{heard}")
    assert f"Who knows {heard}?" in who
    assert re.search(r"1\. alice — \d+ plays", who) and "dave — 1 play" in who
    wrapped = after(text, "alice ▸ /wrapped")
    assert re.search(rf"alice's \d{{4}}: {added[1]} plays · [\d,]+ minutes · top artist ", wrapped)
    assert "📎 wrapped.png" in wrapped

    workdir, log = kept_folder(tmp_path)
    assert "linked a Spotify account" in log
    assert (workdir / "data" / "encore.db").exists()
    with Image.open(workdir / demo.CARD_FILE) as card:
        assert card.format == "PNG" and card.size[0] == 1080
    assert not leaks(spotify.accounts.issued, transcript=text, log=log)
    assert not exchange_problems(optional_spotify_openapi, spotify.requests)


async def test_a_failed_step_is_reported_and_the_folder_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "SpotifySandbox", RefusingSandbox)
    out = io.StringIO()

    code = await run_demo(out, parent=tmp_path)

    assert code == 1
    assert "The demo stopped" in out.getvalue()
    assert "Linking cancelled" in out.getvalue()
    workdir, log = kept_folder(tmp_path)
    assert f"Kept {workdir}" in out.getvalue()
    assert "the demo stopped" in log


async def run_module(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`python -m bot ARGS` in an empty folder, without any Discord or Spotify setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SPOTIFY_"))}
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_python_m_bot_demo_ignores_dotenv_and_cleans_up(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SPOTIFY_REDIRECT_URI=http://localhost/callback\n")

    code, out, err = await run_module(tmp_path, "demo")

    assert code == 0, out + err
    assert "taste match" in out and "Saved this track" in out
    assert err == ""
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_missing_credentials_point_to_the_demo(tmp_path: Path) -> None:
    code, _, err = await run_module(tmp_path)

    assert code != 0
    for name in ("DISCORD_TOKEN", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"):
        assert name in err
    assert (
        "To see Encore work without any credentials, run: python -m bot demo "
        "(or scripts/run demo)" in err
    )
