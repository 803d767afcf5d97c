"""/import end to end: the reply's link, the upload page, the upload, progress and the summary in
Discord, through the Discord stand-in and the bot's own web server."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import update

from bot.db.models import ImportLink
from bot.services.import_links import utcnow
from sandbox.history_files import write_account_json, write_extended_json, write_extended_zip
from tests.helpers.import_page import ImportBrowser, import_link
from tests.helpers.plays import StoreGate, stored_plays
from tests.helpers.world import World, has_text

pytestmark = pytest.mark.e2e


async def open_import(world: World, member_index: int = 0) -> tuple[str, object]:
    interaction = await world.run("import", world.members[member_index])
    reply = await interaction.wait_message()
    return import_link(reply), interaction


async def test_import_link_is_private_on_the_bots_origin_and_names_the_member(world: World) -> None:
    alice = world.members[0]
    reply = await world.answer("import", alice)
    assert reply.ephemeral
    url = import_link(reply)
    assert url.startswith(f"{world.web_url}/import/")
    async with ImportBrowser() as browser:
        page = await browser.get(url)
    assert page.status == 200
    assert f"Importing for <b>{alice.name}</b>" in page.text
    assert "https://www.spotify.com/account/privacy/" in page.text
    assert "Extended streaming history" in page.text
    assert 'enctype="multipart/form-data"' in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'nonce-" in csp and "default-src 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "http://" not in page.text.replace(world.web_url, "").replace("xmlns", "")


async def test_a_zip_upload_imports_and_the_reply_shows_the_summary(
    world: World, tmp_path: Path
) -> None:
    alice = world.members[0]
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 1_500, seed=3, per_file=600)
    url, interaction = await open_import(world)
    async with ImportBrowser() as browser:
        posted = await browser.upload(url, [written.path])
        assert posted.status == 200  # followed the 303 to the page
        status = await browser.wait_over(url)
        assert status["state"] == "done"
        assert status["added"] == written.counted
        assert any(f"Plays added: {written.counted:,}" in line for line in status["summary"])
        page = await browser.get(url)
        assert "Import finished" in page.text
        assert "Top artist:" in page.text

        again = await browser.upload(url, [written.path], csrf="anything")
        assert again.status == 410
        assert "already used" in again.text

    assert await stored_plays(world.bot.sessions, alice.id) == written.counted
    assert not any((world.settings.DATA_DIR / "imports").iterdir()), "the upload is deleted"
    reply = await interaction.wait_message(has_text("plays added"))  # type: ignore[attr-defined]
    text = reply.text()
    assert f"**{written.counted:,}** plays added" in text
    assert "Top artist:" in text
    assert "plays under 30 seconds" in text
    assert reply.buttons() == []


async def test_importing_the_same_zip_again_adds_nothing(world: World, tmp_path: Path) -> None:
    alice = world.members[0]
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 1_200, seed=5, per_file=500)
    async with ImportBrowser() as browser:
        url, _ = await open_import(world)
        await browser.upload(url, [written.path])
        first = await browser.wait_over(url)
        url, interaction = await open_import(world)
        await browser.upload(url, [written.path])
        second = await browser.wait_over(url)
    assert first["added"] == written.counted
    assert (second["added"], second["duplicates"]) == (0, written.counted)
    assert await stored_plays(world.bot.sessions, alice.id) == written.counted
    reply = await interaction.wait_message(has_text("already stored"))  # type: ignore[attr-defined]
    assert "**0** plays added" in reply.text()


async def test_several_json_files_of_both_formats_import_together(
    world: World, tmp_path: Path
) -> None:
    extended = write_extended_json(tmp_path / "Streaming_History_Audio_2020.json", 300, seed=1)
    account = write_account_json(tmp_path / "StreamingHistory_music_0.json", 200, seed=2)
    url, _ = await open_import(world)
    async with ImportBrowser() as browser:
        posted = await browser.upload(url, [extended.path, account.path], accept_json=True)
        assert posted.status == 202
        status = await browser.wait_over(url)
    assert status["state"] == "done"
    assert status["files_total"] == 2
    assert status["plays_read"] == extended.counted + account.counted


async def test_a_second_import_replaces_the_first_link(world: World) -> None:
    first, _ = await open_import(world)
    second, _ = await open_import(world)
    assert first != second
    async with ImportBrowser() as browser:
        old = await browser.get(first)
        new = await browser.get(second)
    assert old.status == 404
    assert "not valid" in old.text
    assert "/import" in old.text
    assert new.status == 200


async def test_an_expired_link_says_so(world: World) -> None:
    url, _ = await open_import(world)
    async with world.bot.sessions() as session, session.begin():
        await session.execute(update(ImportLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    async with ImportBrowser() as browser:
        page = await browser.get(url)
    assert page.status == 410
    assert "expired" in page.text


BAD_UPLOADS = [
    ("cover.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a Spotify history file"),
    ("Userdata.json", b'{"username": "someone"}', "not a Spotify streaming history"),
    ("Streaming_History_Audio_2020.json", b"", "no plays in these files"),
    ("my_spotify_data.zip", None, "incomplete"),
]


@pytest.mark.parametrize(("name", "content", "says"), BAD_UPLOADS)
async def test_bad_input_gets_a_page_saying_what_to_upload_instead_and_the_link_still_works(
    world: World,
    tmp_path: Path,
    name: str,
    content: bytes | None,
    says: str,
) -> None:
    good = write_extended_zip(tmp_path / "good.zip", 200, seed=9)
    if content is None:
        whole = good.path.read_bytes()
        content = whole[: len(whole) // 2]
    url, interaction = await open_import(world)
    async with ImportBrowser() as browser:
        refused = await browser.upload(url, [(name, content)])
        assert refused.status == 400
        assert says in refused.text
        assert "my_spotify_data.zip" in refused.text
        assert await stored_plays(world.bot.sessions, world.members[0].id) == 0
        page = await browser.get(url)
        assert page.status == 200
        assert says in page.text  # the form shows why the last upload did not import
        retry = await browser.upload(url, [good.path])
        assert retry.status == 200
        assert (await browser.wait_over(url))["state"] == "done"
    assert await stored_plays(world.bot.sessions, world.members[0].id) == good.counted
    await interaction.wait_message(has_text("plays added"))  # type: ignore[attr-defined]


async def test_a_refusal_found_after_the_upload_shows_on_the_page_and_in_discord(
    world: World,
) -> None:
    url, interaction = await open_import(world)
    async with ImportBrowser() as browser:
        posted = await browser.upload(url, [("Streaming_History_Audio_2020.json", b"[]")])
        assert posted.status == 200
        status = await browser.wait_over(url)
        assert status["state"] == "refused"
        page = await browser.get(url)
    assert page.status == 200
    assert "no plays in these files" in page.text
    reply = await interaction.wait_message(has_text("could not be imported"))  # type: ignore[attr-defined]
    assert "hold no plays" in reply.text()


async def test_the_form_needs_its_csrf_token_and_the_same_site(
    world: World, tmp_path: Path
) -> None:
    written = write_account_json(tmp_path / "StreamingHistory_music_0.json", 50)
    url, _ = await open_import(world)
    async with ImportBrowser() as browser:
        await browser.csrf(url)
        forged = await browser.upload(url, [written.path], csrf="forged")
        assert forged.status == 403
        form = aiohttp.FormData()
        form.add_field("csrf", await browser.csrf(url))
        form.add_field("files", written.path.read_bytes(), filename=written.path.name)
        async with browser.http.post(
            url, data=form, headers={"Origin": "https://evil.example"}
        ) as response:
            assert response.status == 403
    async with ImportBrowser() as cookieless:
        page = await cookieless.upload(url, [written.path], csrf="no-cookie-to-match")
        assert page.status == 403
    assert await stored_plays(world.bot.sessions, world.members[0].id) == 0


async def test_no_file_chosen(world: World) -> None:
    url, _ = await open_import(world)
    async with ImportBrowser() as browser:
        page = await browser.upload(url, [("", b"")])
    assert page.status == 400
    assert "No file was chosen" in page.text


async def test_one_import_per_member_at_a_time(
    store_gate: StoreGate, world: World, tmp_path: Path
) -> None:
    written = write_extended_zip(tmp_path / "h.zip", 300, seed=4)
    store_gate.close()
    url, _ = await open_import(world)
    async with ImportBrowser() as browser:
        first = asyncio.create_task(browser.upload(url, [written.path], accept_json=True))
        await asyncio.wait_for(store_gate.reached.wait(), 10)
        url_again, _ = await open_import(world)
        busy = await browser.upload(url_again, [written.path])
        assert busy.status == 409
        assert "still running" in busy.text
        store_gate.open()
        assert (await first).status == 202
        assert (await browser.wait_over(url))["state"] == "done"


async def test_the_import_token_never_reaches_the_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = await open_import(world)
    token = url.rsplit("/", 1)[1]
    async with ImportBrowser() as browser:
        await browser.get(url)
        await browser.upload(url, [("x.json", b"{}")])
    assert "/import/…" in caplog.text
    assert token not in caplog.text


async def test_import_works_from_a_dm(world: World) -> None:
    reply = await world.answer("import", world.members[1], in_guild=False)
    assert reply.ephemeral
    async with ImportBrowser() as browser:
        page = await browser.get(import_link(reply))
    assert page.status == 200
    assert world.members[1].name in page.text


async def test_a_member_who_switched_recording_off_imports_nothing(
    world: World, tmp_path: Path
) -> None:
    alice, bob = world.members[:2]
    url = import_link(await world.answer("import", alice))
    await world.answer("privacy", alice, options={"record": False})
    await world.answer("privacy", bob, options={"record": False})
    refused = await world.answer("import", bob)
    assert "switched recording" in refused.text()
    assert refused.buttons() == []
    written = write_account_json(tmp_path / "StreamingHistory_music_0.json", 50)
    async with ImportBrowser() as browser:
        page = await browser.get(url)
        assert page.status == 403
        assert "Recording is switched off" in page.text
        posted = await browser.upload(url, [written.path], csrf="any")
        assert posted.status == 403
    assert await stored_plays(world.bot.sessions, alice.id) == 0
