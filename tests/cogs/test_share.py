"""/share posts to the channel; any linked member saves with one click, even after a restart."""

from __future__ import annotations

import pytest

from bot.app import Encore
from sandbox.discord_client import running_client
from sandbox.discord_models import StandInMessage
from tests.helpers.world import World, has_text

pytestmark = pytest.mark.e2e


def save_button(message: StandInMessage) -> str:
    custom_id: str = next(
        b["custom_id"] for b in message.buttons() if b.get("custom_id", "").startswith("encore:")
    )
    return custom_id


async def unsaved(world: World, spotify_user: str, kind: str) -> str:
    library = world.spotify.users[spotify_user].library
    ids = getattr(world.spotify, f"{kind}_ids")()
    return next(i for i in ids if f"spotify:{kind}:{i}" not in library)


async def test_share_a_track_and_a_second_member_saves_it(world: World) -> None:
    alice, bob = world.members[:2]
    await world.link(alice, "user0")
    await world.link(bob, "user1")
    track_id = await unsaved(world, "user1", "track")
    track = world.spotify.catalog.tracks[track_id]

    post = await world.answer(
        "share", alice, options={"item": f"spotify:track:{track_id}", "note": "Listen to this!"}
    )
    assert not post.ephemeral
    assert track.name in post.text() and "Listen to this!" in post.text()
    assert "alice shared a track" in post.text()
    labels = [b.get("label") for b in post.buttons()]
    assert labels == ["Save to my Spotify", "Open in Spotify"]

    click = await world.discord.click(post, save_button(post), user=bob)
    result = await click.wait_message(has_text("Saved"))
    assert result.ephemeral
    assert f"spotify:track:{track_id}" in world.spotify.users["user1"].library
    await world.discord.wait_channel_message(
        post.channel_id, lambda m: m.id == post.id and "by 1 member" in m.text()
    )
    again = await world.discord.click(post, save_button(post), user=bob)
    assert "already" in (await again.wait_message()).text()


async def test_unlinked_clicker_is_told_how_to_link(world: World) -> None:
    alice, carol = world.members[0], world.members[2]
    await world.link(alice, "user0")
    post = await world.answer("share", alice, options={"item": world.spotify.track_ids()[5]})
    click = await world.discord.click(post, save_button(post), user=carol)
    hint = await click.wait_message()
    assert hint.ephemeral
    assert "/link" in hint.text()


async def test_button_works_after_a_restart(world: World) -> None:
    """Nor does it need a message cache: Encore keeps none."""
    assert world.bot._connection.max_messages is None
    alice, bob = world.members[:2]
    await world.link(alice, "user0")
    await world.link(bob, "user1")
    album_id = await unsaved(world, "user1", "album")
    post = await world.answer("share", alice, options={"item": f"spotify:album:{album_id}"})
    await world.bot.close()
    restarted = Encore(world.settings, guild_ready_timeout=0.05)
    async with running_client(world.discord, restarted):
        click = await world.discord.click(post, save_button(post), user=bob)
        assert "Saved" in (await click.wait_message()).text()
    assert f"spotify:album:{album_id}" in world.spotify.users["user1"].library


@pytest.mark.parametrize(
    ("kind", "button", "expected"),
    [
        ("artist", "Follow", "Now following"),
        ("show", "Save to my Spotify", "Saved"),
        ("episode", "Save to my Spotify", "Saved"),
        ("audiobook", "Save to my Spotify", "Saved"),
    ],
)
async def test_share_every_kind(world: World, kind: str, button: str, expected: str) -> None:
    alice, bob = world.members[:2]
    await world.link(alice, "user0")
    await world.link(bob, "user1")
    item_id = await unsaved(world, "user1", kind)
    post = await world.answer("share", alice, options={"item": f"spotify:{kind}:{item_id}"})
    assert "shared a" in post.text()
    assert post.buttons()[0]["label"] == button
    click = await world.discord.click(post, save_button(post), user=bob)
    assert expected in (await click.wait_message()).text()
    assert f"spotify:{kind}:{item_id}" in world.spotify.users["user1"].library


async def test_shared_episode_shows_length_and_show(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    episode_id = world.spotify.episode_ids()[0]
    episode = world.spotify.catalog.episodes[episode_id]
    post = await world.answer("share", alice, options={"item": f"spotify:episode:{episode_id}"})
    assert episode.name in post.text()
    assert ":" in post.text()


async def test_share_rejects_a_user_and_overlong_notes(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    user = await world.answer("share", alice, options={"item": "spotify:user:someone"})
    assert user.ephemeral and "expected" in user.text().casefold()
    long = await world.answer(
        "share", alice, options={"item": world.spotify.track_ids()[0], "note": "x" * 600}
    )
    assert long.ephemeral and "under 500" in long.text()
