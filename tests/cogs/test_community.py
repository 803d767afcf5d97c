"""Community commands end to end: leaderboards, who-knows, compat, picks, server playlists."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.world import World

pytestmark = pytest.mark.e2e


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"DISCORD_MEMBERS_INTENT": True}


async def three_linked(world: World) -> World:
    for member, spotify_user in zip(world.members, ("user0", "user1", "user2"), strict=True):
        await world.link(member, spotify_user)
    world.spotify.clear_requests()
    return world


def artist_name(world: World, spotify_user: str, rank: int = 0) -> str:
    artist_id = world.spotify.users[spotify_user].top_artists["medium_term"][rank]
    return world.spotify.catalog.artists[artist_id].name


async def test_leaderboard_covers_linked_visible_members(world: World) -> None:
    await three_linked(world)
    alice = world.members[0]
    board = await world.answer("leaderboard artists", alice)
    assert not board.ephemeral
    assert "3 members" in board.text()
    assert "pts" in board.text() and "listener" in board.text()
    assert "data from" in board.text()
    assert world.spotify.requests == []


async def test_hidden_member_is_absent_from_every_ranking(world: World) -> None:
    await three_linked(world)
    alice, _, carol = world.members
    await world.answer("privacy", carol, options={"visible": False})
    board = await world.answer("leaderboard tracks", alice, options={"time_range": "long_term"})
    assert "2 members" in board.text()
    carol_favourite = artist_name(world, "user2")
    who = await world.answer("whoknows artist", alice, options={"artist": carol_favourite})
    assert "carol" not in who.text()
    hidden = await world.answer("compat", alice, options={"member": carol})
    assert hidden.ephemeral and "private" in hidden.text()


async def test_member_who_leaves_disappears_from_the_leaderboard(world: World) -> None:
    await three_linked(world)
    alice, _, carol = world.members
    before = await world.answer("leaderboard artists", alice)
    assert "3 members" in before.text()
    await world.remove_member(carol)
    after = await world.answer("leaderboard artists", alice)
    assert "2 members" in after.text()


async def test_whoknows_by_name_autocomplete_and_link(world: World) -> None:
    await three_linked(world)
    alice = world.members[0]
    favourite = world.spotify.users["user1"].top_artists["medium_term"][0]
    name = world.spotify.catalog.artists[favourite].name
    choices = await world.discord.autocomplete(
        "whoknows artist",
        user=alice,
        focused="artist",
        options={"artist": name[:4]},
        guild_id=world.guild.id,
    )
    assert any(c["value"] == f"spotify:artist:{favourite}" for c in choices)
    by_uri = await world.answer(
        "whoknows artist", alice, options={"artist": f"spotify:artist:{favourite}"}
    )
    assert "bob" in by_uri.text() and "#1" in by_uri.text()
    by_name = await world.answer("whoknows artist", alice, options={"artist": name})
    assert "bob" in by_name.text()
    unknown = await world.answer("whoknows artist", alice, options={"artist": "zz no such artist"})
    assert unknown.ephemeral


async def test_compat_shows_a_percentage_and_shared_favourites(world: World) -> None:
    await three_linked(world)
    alice, bob = world.members[:2]
    reply = await world.answer("compat", alice, options={"member": bob})
    assert not reply.ephemeral
    text = reply.text()
    assert "taste match" in text
    percent = int(text.split("**")[1].removesuffix("%"))
    assert 0 <= percent <= 100
    myself = await world.answer("compat", alice, options={"member": alice})
    assert myself.ephemeral


async def test_compat_with_unlinked_member(world: World) -> None:
    await world.link(world.members[0], "user0")
    reply = await world.answer("compat", world.members[0], options={"member": world.members[2]})
    assert reply.ephemeral and "hasn't linked" in reply.text()


async def test_recommend_gives_reasons_and_excludes_own_tops(world: World) -> None:
    await three_linked(world)
    alice = world.members[0]
    reply = await world.answer("recommend", alice)
    assert "Picks for alice" in reply.text()
    assert "your love of" in reply.text()
    own = {
        world.spotify.catalog.artists[a].name
        for a in world.spotify.users["user0"].top_artists["medium_term"]
    }
    lines = [row for row in reply.embeds[0]["description"].splitlines() if row[:1].isdigit()]
    assert lines
    for line in lines:
        name = line.split("[", 1)[1].split("](", 1)[0]
        assert name not in own


async def test_recommend_picks_can_be_posted_to_the_share_channel(world: World) -> None:
    await three_linked(world)
    alice, bob = world.members[:2]
    picks_channel = world.guild.channels[1]
    settings = await world.answer("settings", alice, options={"share_channel": picks_channel})
    assert settings.ephemeral and str(picks_channel.id) in settings.text()
    reply = await world.answer("recommend", alice)
    [post] = [b for b in reply.buttons() if b.get("label") == "Post to the share channel"]
    refused = await world.discord.click(reply, post["custom_id"], user=bob)
    assert "Only the member who asked" in (await refused.wait_message()).text()
    await world.discord.click(reply, post["custom_id"], user=alice)
    posted = await world.discord.wait_channel_message(picks_channel.id)
    assert "Picks for alice" in posted.text()


async def test_serverplaylist_creates_a_playlist_in_the_members_account(world: World) -> None:
    await three_linked(world)
    alice = world.members[0]
    reply = await world.answer("serverplaylist", alice)
    assert reply.ephemeral
    assert "favourites of Encore Test" in reply.text()
    created = [
        r for r in world.spotify.requests if r.method == "POST" and r.path == "/v1/me/playlists"
    ]
    assert len(created) == 1
    items = [r for r in world.spotify.requests if r.path.endswith("/items")]
    assert items and items[0].status == 201
    playlist_id = created[0].response_json["id"]
    assert playlist_id in world.spotify.users["user0"].playlists


async def test_community_commands_need_a_server(world: World) -> None:
    with pytest.raises(LookupError):
        await world.run("leaderboard artists", world.members[0], in_guild=False)


async def test_whoknows_echoes_a_long_option_cut_to_fit_one_message(world: World) -> None:
    """A 2,500-character link (an artist nobody here knows) is echoed short, not refused by
    Discord for going over 2,000 characters."""
    alice = world.members[0]
    await world.link(alice, "user0")
    unknown = "https://open.spotify.com/artist/0000000000000000000000?si=" + "a" * 2500
    reply = await world.answer("whoknows artist", alice, options={"artist": unknown})
    assert "Nobody visible here has" in reply.content
    assert "open.spotify.com/artist/0000000000000000000000" in reply.content
    assert len(reply.content) < 300
