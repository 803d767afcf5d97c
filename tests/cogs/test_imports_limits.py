"""/import with small limits: an upload past IMPORT_MAX_BYTES and a process busy with as many
imports as IMPORT_CONCURRENCY allows each get a page saying so; no upload file stays behind."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sandbox.history_files import write_extended_zip
from tests.helpers.import_page import ImportBrowser, import_link
from tests.helpers.plays import StoreGate, stored_plays
from tests.helpers.world import World

pytestmark = pytest.mark.e2e

MAX_BYTES = 1 << 20


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"IMPORT_MAX_BYTES": MAX_BYTES, "IMPORT_CONCURRENCY": 1}


def upload_folder(world: World) -> Path:
    return world.settings.DATA_DIR / "imports"


async def test_an_upload_past_the_limit_gets_a_413_page_and_leaves_no_file(world: World) -> None:
    url = import_link(await world.answer("import", world.members[0]))
    async with ImportBrowser() as browser:
        page = await browser.upload(url, [("my_spotify_data.zip", b"PK" + bytes(MAX_BYTES))])
        assert page.status == 413
        assert "too large" in page.text
        assert "1 MB" in page.text
        assert (await browser.get(url)).status == 200, "the link still works"
    assert not any(upload_folder(world).iterdir())
    assert await stored_plays(world.bot.sessions, world.members[0].id) == 0


async def test_a_member_over_the_process_limit_is_asked_to_wait(
    store_gate: StoreGate, world: World, tmp_path: Path
) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 300, seed=6)
    store_gate.close()
    alice_url = import_link(await world.answer("import", world.members[0]))
    bob_url = import_link(await world.answer("import", world.members[1]))
    async with ImportBrowser() as alice, ImportBrowser() as bob:
        first = asyncio.create_task(alice.upload(alice_url, [written.path], accept_json=True))
        await asyncio.wait_for(store_gate.reached.wait(), 10)
        busy = await bob.upload(bob_url, [written.path])
        assert busy.status == 503
        assert "busy" in busy.text
        assert busy.headers["Retry-After"]
        store_gate.open()
        assert (await first).status == 202
        assert (await alice.wait_over(alice_url))["state"] == "done"
        assert (await bob.upload(bob_url, [written.path])).status == 200
        assert (await bob.wait_over(bob_url))["state"] == "done"
    assert not any(upload_folder(world).iterdir())
