"""Rankings by plays end to end: the `period` basis of /leaderboard, /whoknows, /compat and
/top, the default that switches basis, and who counts (members of the guild, visible, linked
or not)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.db.engine import session_scope
from bot.domain import PlayIn, PlaySource
from bot.store.plays import record_plays
from sandbox.discord_models import StandInUser
from tests.helpers.world import World

pytestmark = pytest.mark.e2e


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"DISCORD_MEMBERS_INTENT": True}


def plays(
    member: StandInUser,
    count: int,
    track: str,
    artist: str,
    album: str,
    *,
    days_ago: float = 1,
    artist_id: str | None = None,
    track_id: str | None = None,
) -> list[PlayIn]:
    start = datetime.now(UTC) - timedelta(days=days_ago)
    return [
        PlayIn(
            discord_user_id=member.id,
            started_at=start + timedelta(minutes=5 * i),
            ms_played=180_000,
            source=PlaySource.IMPORT,
            track_name=track,
            artist_names=(artist,),
            album_name=album,
            artist_ids=(artist_id,) if artist_id else (),
            track_id=track_id,
            duration_ms=180_000,
        )
        for i in range(count)
    ]


async def store(world: World, *batches: list[PlayIn]) -> None:
    """Record the plays and the members who played as seen in the guild (as presence does)."""
    rows = [play for batch in batches for play in batch]
    async with session_scope(world.bot.sessions, shared_writes=True) as session:
        await record_plays(session, rows)
    await world.bot.services.members.record(
        world.guild.id, sorted({play.discord_user_id for play in rows})
    )


async def known_plays(world: World) -> None:
    """alice: 3 × Alpha (Xavier); bob: 2 × Alpha, 1 × Beta (Yolanda); carol: 4 × Gamma (Zed)."""
    alice, bob, carol = world.members
    await store(
        world,
        plays(alice, 3, "Alpha", "Xavier", "First Album"),
        plays(bob, 2, "Alpha", "Xavier", "First Album", days_ago=2),
        plays(bob, 1, "Beta", "Yolanda", "Second Album", days_ago=3),
        plays(carol, 4, "Gamma", "Zed", "Third Album", days_ago=20),
    )


def line_of(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if name in line)


async def test_leaderboard_by_plays_counts_every_members_plays(world: World) -> None:
    await known_plays(world)
    alice = world.members[0]
    board = await world.answer("leaderboard artists", alice, options={"period": "month"})
    text = board.text()
    assert not board.ephemeral
    assert "by plays · last 30 days" in text
    assert "5 plays · 2 listeners" in line_of(text, "Xavier")
    assert "4 plays · 1 listener" in line_of(text, "Zed")
    assert "1 play · 1 listener" in line_of(text, "Yolanda")
    assert text.index("Xavier") < text.index("Zed") < text.index("Yolanda")
    assert "3 members" in text

    week = await world.answer("leaderboard tracks", alice, options={"period": "week"})
    assert "by plays · last 7 days" in week.text()
    assert "Gamma" not in week.text()  # played 20 days ago
    assert "5 plays" in line_of(week.text(), "Alpha")

    albums = await world.answer("leaderboard albums", alice, options={"period": "all"})
    assert "by plays · all time" in albums.text()
    assert "5 plays" in line_of(albums.text(), "First Album")
    assert "4 plays" in line_of(albums.text(), "Third Album")


async def test_both_bases_given_is_a_short_private_error(world: World) -> None:
    alice = world.members[0]
    both = {"time_range": "short_term", "period": "week"}
    for command in ("leaderboard artists", "top tracks"):
        reply = await world.answer(command, alice, options=both)
        assert reply.ephemeral
        assert "either" in reply.text() and len(reply.text()) < 200
    reply = await world.answer("compat", alice, options={"member": world.members[1], **both})
    assert reply.ephemeral and "either" in reply.text()
    reply = await world.answer("whoknows track", alice, options={"track": "Alpha", **both})
    assert reply.ephemeral and "either" in reply.text()


async def test_default_basis_follows_recent_plays(world: World) -> None:
    alice, bob, _ = world.members
    await world.link(alice, "user0")
    await world.link(bob, "user1")
    before = await world.answer("leaderboard artists", alice)
    assert "by Spotify top lists · last 6 months" in before.text()
    assert "pts" in before.text()
    top = await world.answer("top artists", alice)
    assert "by Spotify top lists · last 6 months" in top.text()

    await store(world, plays(bob, 2, "Alpha", "Xavier", "First Album", days_ago=40))
    still = await world.answer("leaderboard artists", alice)
    assert "by Spotify top lists" in still.text()  # no play in the last 30 days yet

    await store(world, plays(bob, 3, "Beta", "Yolanda", "Second Album"))
    after = await world.answer("leaderboard artists", alice)
    assert "by plays · last 30 days" in after.text()
    assert "3 plays" in line_of(after.text(), "Yolanda")
    # /top and /compat look at the members' own plays: alice has none
    assert "by Spotify top lists" in (await world.answer("top artists", alice)).text()
    assert "by plays · last 30 days" in (await world.answer("top artists", bob)).text()
    explicit = await world.answer("leaderboard artists", alice, options={"time_range": "long_term"})
    assert "by Spotify top lists · last year" in explicit.text()


async def test_top_by_plays_needs_no_link(world: World) -> None:
    alice = world.members[0]
    await known_plays(world)
    reply = await world.answer("top tracks", alice, options={"period": "year"})
    assert "alice's top tracks · by plays · last 365 days" in reply.text()
    assert "3 plays" in line_of(reply.text(), "Alpha")
    albums = await world.answer("top albums", alice)
    assert "by plays · last 30 days" in albums.text()
    assert "3 plays" in line_of(albums.text(), "First Album")


async def test_whoknows_track_and_album_by_plays(world: World) -> None:
    await known_plays(world)
    alice, _, carol = world.members
    track = await world.answer("whoknows track", carol, options={"track": "alpha"})
    text = track.text()
    assert "Who knows Alpha?" in text
    assert "3 plays" in line_of(text, "alice") and "2 plays" in line_of(text, "bob")
    assert text.index("alice") < text.index("bob")
    assert "carol" not in text.split("Who knows Alpha?")[1]
    assert "by plays · last 30 days" in text

    album = await world.answer(
        "whoknows album", alice, options={"album": "Third Album", "period": "all"}
    )
    assert "4 plays" in line_of(album.text(), "carol")
    assert "by plays · all time" in album.text()

    choices = await world.discord.autocomplete(
        "whoknows album",
        user=alice,
        focused="album",
        options={"album": "alb"},
        guild_id=world.guild.id,
    )
    assert {"First Album", "Second Album", "Third Album"} <= {c["value"] for c in choices}

    nobody = await world.answer("whoknows track", alice, options={"track": "Never Played"})
    assert "Nobody visible here has played the track" in nobody.text()


async def test_whoknows_artist_lists_top_list_only_members_after_players(world: World) -> None:
    alice, bob, _ = world.members
    await world.link(bob, "user1")
    favourite = world.spotify.users["user1"].top_artists["medium_term"][0]
    name = world.spotify.catalog.artists[favourite].name
    await store(world, plays(alice, 2, "Some Song", name, "Some Album", artist_id=favourite))
    who = await world.answer(
        "whoknows artist", alice, options={"artist": f"spotify:artist:{favourite}"}
    )
    text = who.text()
    assert "2 plays" in line_of(text, "alice")
    assert "In top lists only" in text
    assert "#1 in top lists" in line_of(text, "bob")
    assert text.index("alice") < text.index("In top lists only") < text.index("bob")
    by_name = await world.answer("whoknows artist", alice, options={"artist": name})
    assert "#1 in top lists" in line_of(by_name.text(), "bob")

    only_listed = world.spotify.users["user1"].top_artists["medium_term"][1]
    listed_name = world.spotify.catalog.artists[only_listed].name
    nobody_played = await world.answer("whoknows artist", alice, options={"artist": listed_name})
    assert "#2 in top lists" in line_of(nobody_played.text(), "bob")


async def test_compat_by_plays_shows_shared_favourites_with_counts(world: World) -> None:
    await known_plays(world)
    alice, bob, carol = world.members
    reply = await world.answer("compat", alice, options={"member": bob, "period": "month"})
    text = reply.text()
    # cosine of log(1 + plays): alice {X: 3}, bob {X: 2, Y: 1}, same for their tracks
    expected = round(100 * math.log(3) / math.hypot(math.log(3), math.log(2)))
    assert f"**{expected}%** taste match" in text
    assert f"artists {expected}% · tracks {expected}%" in text
    assert "3 plays / 2 plays" in line_of(text, "Xavier")
    assert "by plays · last 30 days" in text
    apart = await world.answer("compat", alice, options={"member": carol, "period": "all"})
    assert "**0%** taste match" in apart.text()
    assert "No favourites in common" in apart.text()


async def test_hidden_member_is_absent_from_rankings_by_plays(world: World) -> None:
    await known_plays(world)
    alice, _, carol = world.members
    await world.answer("privacy", carol, options={"visible": False})
    board = await world.answer("leaderboard artists", alice, options={"period": "month"})
    assert "Zed" not in board.text() and "2 members" in board.text()
    albums = await world.answer("leaderboard albums", alice, options={"period": "all"})
    assert "Third Album" not in albums.text()
    who = await world.answer("whoknows album", alice, options={"album": "Third Album"})
    assert "carol" not in who.text()
    hidden = await world.answer("compat", alice, options={"member": carol, "period": "all"})
    assert hidden.ephemeral and "private" in hidden.text()
    top = await world.answer("top artists", alice, options={"member": carol, "period": "all"})
    assert top.ephemeral and "Zed" not in top.text()


async def test_member_who_leaves_stops_counting_by_plays(world: World) -> None:
    await known_plays(world)
    alice, _, carol = world.members
    await world.remove_member(carol)
    board = await world.answer("leaderboard artists", alice, options={"period": "month"})
    assert "Zed" not in board.text()


async def test_serverplaylist_draws_on_recent_plays(world: World) -> None:
    alice, bob, _ = world.members
    await world.link(alice, "user0")
    played = next(iter(world.spotify.catalog.tracks))
    await store(
        world,
        plays(bob, 4, "Known Track", "Someone", "Some Album", track_id=played),
        plays(bob, 9, "Name Only", "Nobody", "No Album"),  # no Spotify ID: cannot be added
    )
    world.spotify.clear_requests()
    reply = await world.answer("serverplaylist", alice)
    assert "favourites of Encore Test" in reply.text()
    created = [r for r in world.spotify.requests if r.path == "/v1/me/playlists"]
    assert "most-played" in created[0].request_json["description"]
    items = [r for r in world.spotify.requests if r.path.endswith("/items")]
    assert items[0].request_json["uris"] == [f"spotify:track:{played}"]


async def test_recommend_draws_on_plays_of_similar_members(world: World) -> None:
    alice, bob, carol = world.members
    await world.link(alice, "user0")
    track_id, track = next(iter(world.spotify.catalog.tracks.items()))
    await store(
        world,
        plays(alice, 3, "Alpha", "Xavier", "First Album"),
        plays(bob, 2, "Alpha", "Xavier", "First Album", days_ago=2),
        plays(bob, 5, track.name, "Yolanda", "Second Album", days_ago=3, track_id=track_id),
        plays(carol, 4, "Gamma", "Zed", "Third Album"),  # nothing in common with alice
    )
    world.spotify.clear_requests()
    reply = await world.answer("recommend", alice)
    text = reply.text()
    assert "Picks for alice" in text
    assert track.name in text
    assert "1 member who shares your love of Xavier plays this" in text
    assert "Gamma" not in text and "Alpha" not in text  # carol is not similar; alice has Alpha
    assert not [r for r in world.spotify.requests if "/me/top/" in r.path]


async def test_top_albums_by_top_lists_weigh_the_albums_of_top_tracks(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    catalog = world.spotify.catalog
    points: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for rank, track_id in enumerate(
        world.spotify.users["user0"].top_tracks["medium_term"][:50], start=1
    ):
        album = catalog.tracks[track_id].album_id
        points[album] += 51 - rank
        first_seen.setdefault(album, rank)
    best = min(points, key=lambda album: (-points[album], first_seen[album]))
    reply = await world.answer("top albums", alice, options={"time_range": "medium_term"})
    text = reply.text()
    assert "alice's top albums · by Spotify top lists · last 6 months" in text
    first_line = next(line for line in text.splitlines() if line.startswith("1."))
    assert catalog.albums[best].name in first_line
