"""The /import page in a real browser: Debian's Chromium, driven by Playwright, against the real
bot and the Discord stand-in. Set ENCORE_SCREENSHOT_DIR to keep screenshots of the page."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.history_files import write_extended_zip
from tests.helpers.import_page import import_link
from tests.helpers.plays import stored_plays
from tests.helpers.world import World, has_text

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)",
    ),
]
async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with async_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def screenshot(page: object, name: str) -> None:
    folder = os.environ.get("ENCORE_SCREENSHOT_DIR")
    if folder:
        await page.screenshot(path=str(Path(folder) / name), full_page=True)  # type: ignore[attr-defined]


async def test_the_page_uploads_a_zip_with_progress_and_shows_the_summary(
    world: World, browser: object, tmp_path: Path
) -> None:
    alice = world.members[0]
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 2_000, seed=11, per_file=500)
    interaction = await world.run("import", alice)
    url = import_link(await interaction.wait_message())

    page = await browser.new_page()  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    await page.goto(url)
    assert alice.name in await page.inner_text(".who")
    assert "Extended streaming history" in await page.inner_text("ol")
    await screenshot(page, "import-before.png")

    await page.set_input_files("#files", str(written.path))
    await page.click("button[type=submit]")
    await page.wait_for_selector("#progress[data-state=done]", timeout=30_000)
    await screenshot(page, "import-after.png")

    assert page.url == url, "with JavaScript the page stays put and follows the import"
    assert await page.is_hidden("#upload")
    assert await page.inner_text("h1") == "Import finished"
    summary = await page.inner_text("#summary")
    assert f"Plays added: {written.counted:,}" in summary
    assert "Top artist:" in summary
    assert "plays under 30 seconds" in summary
    assert problems == [], "no script error and no CSP violation"

    reply = await interaction.wait_message(has_text("plays added"))
    assert f"**{written.counted:,}** plays added" in reply.text()
    assert await stored_plays(world.bot.sessions, alice.id) == written.counted


async def test_the_page_works_without_javascript(
    world: World, browser: object, tmp_path: Path
) -> None:
    written = write_extended_zip(tmp_path / "my_spotify_data.zip", 800, seed=12)
    interaction = await world.run("import", world.members[1])
    url = import_link(await interaction.wait_message())

    context = await browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = await context.new_page()
    await page.goto(url)
    await page.set_input_files("#files", str(written.path))
    await page.click("button[type=submit]")
    await screenshot(page, "import-nojs-progress.png")
    await page.wait_for_selector("text=Import finished", timeout=30_000)
    assert f"Plays added: {written.counted:,}" in await page.inner_text("#summary")
    await context.close()


async def test_a_wrong_file_shows_what_to_upload_instead(
    world: World, browser: object, tmp_path: Path
) -> None:
    picture = tmp_path / "cover.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(256))
    interaction = await world.run("import", world.members[2])
    url = import_link(await interaction.wait_message())

    page = await browser.new_page()  # type: ignore[attr-defined]
    await page.goto(url)
    await page.set_input_files("#files", str(picture))
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=This is not a Spotify history file", timeout=30_000)
    await screenshot(page, "import-refused.png")
    assert "my_spotify_data.zip" in await page.inner_text("#notice")
    assert await page.is_visible("#upload"), "the form is back for the right file"
    assert await stored_plays(world.bot.sessions, world.members[0].id) == 0
