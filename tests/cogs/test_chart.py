"""/chart draws a PNG collage from the member's top list, with placeholders for missing art."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.helpers.world import World

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("size", "grid"), [("3x3", 3), ("4x4", 4), ("5x5", 5)])
async def test_chart_is_a_png_grid(world: World, size: str, grid: int) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    reply = await world.answer("chart", alice, options={"size": size, "of": "artists"}, timeout=20)
    assert not reply.ephemeral
    [attachment] = reply.attachments
    assert attachment.name == "chart.png"
    with Image.open(io.BytesIO(attachment.data)) as image:
        assert image.format == "PNG"
        assert image.size[0] == image.size[1]
        assert image.size[0] % grid == 0
    assert "top artists" in reply.text()
    assert len(world.spotify.requests_to("/images/")) >= 1


async def test_albums_chart_and_failed_art_get_placeholders(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    world.spotify.faults.server_error(count=1000, path="/images/")
    reply = await world.answer("chart", alice, options={"private": True}, timeout=20)
    assert reply.ephemeral
    assert "placeholder" in reply.text()
    with Image.open(io.BytesIO(reply.attachments[0].data)) as image:
        assert image.size == (900, 900)


async def test_chart_needs_a_link(world: World) -> None:
    reply = await world.answer("chart", world.members[2])
    assert reply.ephemeral and "/link" in reply.text()
