"""Personal library commands, end to end through the Discord stand-in and the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.db.models import TopSnapshot
from bot.domain import ItemKind, TimeRange
from tests.helpers.world import World, button_id, has_text

pytestmark = pytest.mark.e2e

NEXT, LAST = "▶️", "⏭️"


async def linked(world: World) -> World:
    await world.link(world.members[0], "user0")
    await world.link(world.members[1], "user1")
    world.spotify.clear_requests()
    return world


async def test_top_artists_lists_all_fifty_across_pages(world: World) -> None:
    await linked(world)
    alice = world.members[0]
    expected = world.spotify.users["user0"].top_artists["medium_term"]
    names = [world.spotify.catalog.artists[i].name for i in expected]

    reply = await world.answer("top artists", alice)

    assert not reply.ephemeral
    assert "last 6 months" in reply.text()
    assert names[0] in reply.text() and names[9] in reply.text()
    assert reply.embeds[0]["thumbnail"]["url"]
    assert "1/5" in str(reply.buttons())
    click = await world.discord.click(reply, button_id(reply, LAST), user=alice)
    last = await click.wait_message(has_text(names[49]))
    assert "5/5" in str(last.buttons())


async def test_top_is_served_from_the_snapshot_while_fresh(world: World) -> None:
    await linked(world)
    alice = world.members[0]
    first = await world.answer("top tracks", alice, options={"time_range": "short_term"})
    assert "last 4 weeks" in first.text()
    assert world.spotify.requests_to("/v1/me/top") == []

    async with world.bot.sessions() as session:
        await session.execute(
            update(TopSnapshot)
            .where(TopSnapshot.discord_user_id == alice.id)
            .values(fetched_at=datetime.now(UTC) - timedelta(days=1))
        )
        await session.commit()
    await world.answer("top tracks", alice, options={"time_range": "short_term"})
    assert len(world.spotify.requests_to("/v1/me/top/tracks")) == 1
    await world.answer("top tracks", alice, options={"time_range": "short_term"})
    assert len(world.spotify.requests_to("/v1/me/top")) == 1


async def test_private_option_answers_ephemerally(world: World) -> None:
    await linked(world)
    reply = await world.answer("top artists", world.members[0], options={"private": True})
    assert reply.ephemeral


async def test_only_the_invoker_turns_pages(world: World) -> None:
    await linked(world)
    alice, bob = world.members[:2]
    reply = await world.answer("top artists", alice)
    click = await world.discord.click(reply, button_id(reply, NEXT), user=bob)
    refusal = await click.wait_message()
    assert refusal.ephemeral
    assert "Only" in refusal.text()
    assert "1/5" in str(reply.buttons())


async def test_viewing_a_visible_member(world: World) -> None:
    await linked(world)
    alice, bob = world.members[:2]
    reply = await world.answer("top artists", alice, options={"member": bob})
    assert not reply.ephemeral
    assert "bob" in reply.text()


async def test_hidden_member_cannot_be_viewed(world: World) -> None:
    await linked(world)
    alice, bob = world.members[:2]
    hidden = await world.answer("privacy", bob, options={"visible": False})
    assert hidden.ephemeral and "hidden" in hidden.text()
    reply = await world.answer("top artists", alice, options={"member": bob})
    assert reply.ephemeral
    assert "private" in reply.text()
    assert world.spotify.requests_to("/v1/me/top") == []


async def test_unlinked_member_cannot_be_viewed(world: World) -> None:
    await linked(world)
    reply = await world.answer(
        "top artists", world.members[0], options={"member": world.members[2]}
    )
    assert reply.ephemeral
    assert "hasn't linked" in reply.text()


async def test_a_user_who_is_not_a_member_here_cannot_be_viewed(world: World) -> None:
    await linked(world)
    dave = world.discord.add_user(name="dave")
    elsewhere = world.discord.add_guild(name="Elsewhere", members=[dave])
    await world.link(dave, "user3", guild=elsewhere)
    world.spotify.clear_requests()
    for command in ("top artists", "top tracks"):
        reply = await world.answer(command, world.members[0], options={"member": dave})
        assert reply.ephemeral
        assert "isn't in this server" in reply.text()
    assert world.spotify.requests_to("/v1/me/top") == []


async def test_nobody_else_is_viewed_in_direct_messages(world: World) -> None:
    await linked(world)
    alice, bob = world.members[:2]
    reply = await world.answer("top artists", alice, options={"member": bob}, in_guild=False)
    assert reply.ephemeral
    assert "inside a server" in reply.text()


async def test_saved_tracks_pages_lazily(world: World) -> None:
    await linked(world)
    alice = world.members[0]
    reply = await world.answer("saved tracks", alice)
    saved = world.spotify.requests_to("/v1/me/tracks")
    assert len(saved) == 1
    assert "in all" in reply.text()
    assert "added" in reply.text()
    click = await world.discord.click(reply, button_id(reply, NEXT), user=alice)
    await click.wait_message(lambda m: "2/" in str(m.buttons()))
    pages = world.spotify.requests_to("/v1/me/tracks")
    assert len(pages) == 2
    assert pages[1].query["offset"] == "10"


@pytest.mark.parametrize(
    ("command", "path"),
    [
        ("saved albums", "/v1/me/albums"),
        ("saved shows", "/v1/me/shows"),
        ("saved episodes", "/v1/me/episodes"),
        ("saved audiobooks", "/v1/me/audiobooks"),
        ("playlists", "/v1/me/playlists"),
        ("following", "/v1/me/following"),
    ],
)
async def test_library_lists(world: World, command: str, path: str) -> None:
    await linked(world)
    reply = await world.answer(command, world.members[0])
    assert world.spotify.requests_to(path)
    assert reply.embeds and reply.embeds[0]["description"]


async def test_save_and_unsave_a_track_by_link(world: World) -> None:
    await linked(world)
    alice = world.members[0]
    library = world.spotify.users["user0"].library
    track_id = next(t for t in world.spotify.track_ids() if f"spotify:track:{t}" not in library)
    track = world.spotify.catalog.tracks[track_id]

    saved = await world.answer(
        "save", alice, options={"item": f"https://open.spotify.com/intl-de/track/{track_id}?si=x"}
    )
    assert saved.ephemeral
    assert "Saved" in saved.text() and track.name in saved.text()
    assert f"spotify:track:{track_id}" in library
    puts = [r for r in world.spotify.requests if r.method == "PUT"]
    assert [r.path for r in puts] == ["/v1/me/library"]

    again = await world.answer("save", alice, options={"item": track_id})
    assert "already" in again.text()

    removed = await world.answer("unsave", alice, options={"item": f"spotify:track:{track_id}"})
    assert "Removed" in removed.text()
    assert f"spotify:track:{track_id}" not in library
    assert [r.path for r in world.spotify.requests if r.method == "DELETE"] == ["/v1/me/library"]


@pytest.mark.parametrize("kind", ["album", "show", "episode", "audiobook"])
async def test_save_other_kinds(world: World, kind: str) -> None:
    await linked(world)
    library = world.spotify.users["user0"].library
    ids = getattr(world.spotify, f"{kind}_ids")()
    item_id = next(i for i in ids if f"spotify:{kind}:{i}" not in library)
    reply = await world.answer(
        "save", world.members[0], options={"item": f"spotify:{kind}:{item_id}"}
    )
    assert "Saved" in reply.text()
    assert f"spotify:{kind}:{item_id}" in library
    await world.answer("unsave", world.members[0], options={"item": f"spotify:{kind}:{item_id}"})
    assert f"spotify:{kind}:{item_id}" not in library


async def test_follow_and_unfollow_artist_and_playlist(world: World) -> None:
    await linked(world)
    alice = world.members[0]
    library = world.spotify.users["user0"].library
    artist = next(a for a in world.spotify.artist_ids() if f"spotify:artist:{a}" not in library)
    followed = await world.answer("follow", alice, options={"item": artist})
    assert "Now following" in followed.text()
    assert f"spotify:artist:{artist}" in library
    unfollowed = await world.answer("unfollow", alice, options={"item": f"spotify:artist:{artist}"})
    assert "Unfollowed" in unfollowed.text()
    assert f"spotify:artist:{artist}" not in library

    playlist = next(
        p for p in world.spotify.playlist_ids() if f"spotify:playlist:{p}" not in library
    )
    await world.answer(
        "follow", alice, options={"item": f"https://open.spotify.com/playlist/{playlist}"}
    )
    assert f"spotify:playlist:{playlist}" in library
    await world.answer("unfollow", alice, options={"item": f"spotify:playlist:{playlist}"})
    assert f"spotify:playlist:{playlist}" not in library


async def test_save_by_search_text(world: World) -> None:
    await linked(world)
    track = world.spotify.catalog.tracks[world.spotify.track_ids()[3]]
    reply = await world.answer("save", world.members[0], options={"item": track.name})
    assert "Saved" in reply.text() or "already" in reply.text()
    assert world.spotify.requests_to("/v1/search")


@pytest.mark.parametrize(
    ("command", "item", "expected"),
    [
        ("follow", "spotify:track:4uLU6hMCjMI75M1A2tKUQC", "Expected"),
        ("save", "spotify:artist:0OdUWJ0sBjDrqHygGUXeCF", "Expected"),
        ("save", "spotify:nonsense:xyz", "Expected"),
        ("save", "https://open.spotify.com/track/short", "Expected"),
    ],
)
async def test_wrong_kind_or_bad_input_is_a_clear_private_error(
    world: World, command: str, item: str, expected: str
) -> None:
    await linked(world)
    reply = await world.answer(command, world.members[0], options={"item": item})
    assert reply.ephemeral
    assert expected.casefold() in reply.text().casefold()
    assert world.spotify.requests == []


async def test_autocomplete_offers_search_results(world: World) -> None:
    await linked(world)
    track = world.spotify.catalog.tracks[world.spotify.track_ids()[0]]
    choices = await world.discord.autocomplete(
        "save",
        user=world.members[0],
        focused="item",
        options={"item": track.name[:6]},
        guild_id=world.guild.id,
    )
    assert 0 < len(choices) <= 25
    assert all(len(c["name"]) <= 100 and c["value"].startswith("spotify:") for c in choices)


async def test_autocomplete_for_unlinked_member_is_empty(world: World) -> None:
    choices = await world.discord.autocomplete(
        "save",
        user=world.members[2],
        focused="item",
        options={"item": "love"},
        guild_id=world.guild.id,
    )
    assert choices == []


async def test_rate_limit_tells_when_to_retry(world: World) -> None:
    await linked(world)
    world.spotify.faults.rate_limit(retry_after=3600)
    reply = await world.answer("saved tracks", world.members[0])
    assert reply.ephemeral
    assert "Try again in 1 h" in reply.text()


async def test_spotify_failing_says_try_later(world: World) -> None:
    await linked(world)
    world.spotify.faults.server_error(count=10)
    reply = await world.answer("saved albums", world.members[0], timeout=30)
    assert reply.ephemeral
    assert "trouble" in reply.text()


async def test_revoked_grant_asks_to_link_again_and_keeps_data(world: World) -> None:
    await linked(world)
    alice = world.members[0]
    await world.answer("top artists", alice)
    world.spotify.revoke("user0")
    reply = await world.answer("saved tracks", alice)
    assert reply.ephemeral
    assert "/link" in reply.text()
    stored = await world.bot.services.top.stored(alice.id, ItemKind.ARTIST, TimeRange.MEDIUM)
    assert stored is not None and len(stored.items) == 50


async def test_not_allow_listed_member_is_told_what_the_admin_must_do(world: World) -> None:
    await linked(world)
    world.spotify.users["user0"].allow_listed = False
    reply = await world.answer("saved tracks", world.members[0])
    assert reply.ephemeral
    assert "Developer Dashboard" in reply.text() or "User Management" in reply.text()
