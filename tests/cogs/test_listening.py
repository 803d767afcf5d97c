"""Plays from Discord presence, /nowplaying, /recent, and the recording switches, end to end
through the Discord stand-in and the Spotify sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import Encore
from bot.db.engine import session_scope
from bot.domain import PlaySource
from bot.store.visibility import set_visible
from sandbox.discord_client import running_client
from tests.helpers.presence import Clock, listen, stop, stored_plays, until, use_clock
from tests.helpers.world import World, button_id


@pytest.fixture
def world_settings() -> dict[str, Any]:
    return {"DISCORD_PRESENCE_INTENT": True}


async def record_here(world: World) -> str:
    reply = await world.answer("settings", world.members[0], options={"record_listening": True})
    return reply.text()


async def test_settings_says_what_is_recorded_and_from_whom(world: World) -> None:
    before = await world.answer("settings", world.members[0])
    assert "Recording of listening is **off**" in before.text()
    text = await record_here(world)
    assert before.ephemeral
    assert "now **on**" in text
    assert "Discord status" in text and "record:False" in text
    assert world.bot.services.recording.guild_records(world.guild.id)


async def test_three_tracks_give_the_right_plays(world: World) -> None:
    await record_here(world)
    alice = world.members[0]
    clock = Clock()
    use_clock(world.bot, clock)
    first, skipped, third = world.spotify.track_ids()[:3]
    t0 = clock.ms
    length = await listen(world, world.bot, alice, first, t0)
    clock.ms = t0 + length
    await listen(world, world.bot, alice, skipped, clock.ms)
    clock.ms += 10_000
    third_start = clock.ms
    third_length = await listen(world, world.bot, alice, third, third_start)
    for _ in range(3):  # a burst of updates for one listening changes nothing
        await listen(world, world.bot, alice, third, third_start)
    clock.ms = third_start + third_length * 6 // 10
    await stop(world, world.bot, alice)
    plays = await stored_plays(world.bot, alice)
    assert [(p.track_id, p.source) for p in plays] == [
        (first, PlaySource.PRESENCE),
        (third, PlaySource.PRESENCE),
    ]
    assert [int(p.started_at.timestamp() * 1000) for p in plays] == [t0, third_start]
    assert plays[0].ms_played == length
    assert plays[1].ms_played == third_length * 6 // 10


async def test_a_restart_mid_track_gives_no_duplicate(world: World) -> None:
    await record_here(world)
    bob = world.members[1]
    clock = Clock()
    use_clock(world.bot, clock)
    track = world.spotify.track_ids()[4]
    start = clock.ms - 60_000
    length = await listen(world, world.bot, bob, track, start)
    await world.bot.close()
    restarted = Encore(world.settings, guild_ready_timeout=0.05)
    async with running_client(world.discord, restarted):
        await restarted.wait_until_ready()
        use_clock(restarted, clock)
        tracker = restarted.services.presence
        await until(lambda: tracker.current(bob.id) is not None)
        await listen(world, restarted, bob, track, start)  # the same activity again
        clock.ms = start + length
        await stop(world, restarted, bob)
        plays = await stored_plays(restarted, bob)
    assert [(p.track_id, int(p.started_at.timestamp() * 1000)) for p in plays] == [(track, start)]


async def test_a_server_with_recording_off_records_nothing(world: World) -> None:
    carol = world.members[2]
    clock = Clock()
    tracker = use_clock(world.bot, clock)
    track = world.spotify.track_ids()[0]
    length = await listen(world, world.bot, carol, track, clock.ms)
    clock.ms += length
    await stop(world, world.bot, carol)
    assert tracker.pending_count == 0
    assert await stored_plays(world.bot, carol) == []


async def test_a_member_in_two_guilds_is_recorded_once(world: World) -> None:
    alice = world.members[0]
    other = world.discord.add_guild(name="Second", members=[alice, world.members[1]])
    await until(lambda: world.bot.get_guild(other.id) is not None)
    await record_here(world)
    await world.answer("settings", alice, options={"record_listening": True}, guild=other)
    clock = Clock()
    tracker = use_clock(world.bot, clock)
    written = tracker.written
    track = world.spotify.track_ids()[2]
    length = await listen(world, world.bot, alice, track, clock.ms)
    clock.ms += length
    await stop(world, world.bot, alice)
    plays = await stored_plays(world.bot, alice)
    assert len(plays) == 1
    assert tracker.written - written == 1, "one play offered to the store, not one per guild"


async def test_record_false_stops_recording_and_deletes_plays_after_confirming(
    world: World,
) -> None:
    await record_here(world)
    alice = world.members[0]
    clock = Clock()
    use_clock(world.bot, clock)
    first, second = world.spotify.track_ids()[:2]
    length = await listen(world, world.bot, alice, first, clock.ms)
    clock.ms += length
    second_length = await listen(world, world.bot, alice, second, clock.ms)
    assert len(await stored_plays(world.bot, alice)) == 1
    offer = await world.answer("privacy", alice, options={"record": False})
    assert offer.ephemeral
    assert "no longer records" in offer.text()
    assert "delete every play" in offer.text()
    clock.ms += second_length
    await stop(world, world.bot, alice)
    assert len(await stored_plays(world.bot, alice)) == 1, "the track playing then is not kept"
    click = await world.discord.click(offer, button_id(offer, "Delete my plays"), user=alice)
    done = await click.wait_message(lambda m: "Deleted" in m.text())
    assert "Deleted 1 recorded play" in done.text()
    assert await stored_plays(world.bot, alice) == []
    assert not await world.bot.services.recording.records(alice.id)
    length = await listen(world, world.bot, alice, first, clock.ms)
    clock.ms += length
    await stop(world, world.bot, alice)
    assert await stored_plays(world.bot, alice) == []


async def test_record_false_keeps_plays_unless_confirmed(world: World) -> None:
    await record_here(world)
    bob = world.members[1]
    clock = Clock()
    use_clock(world.bot, clock)
    length = await listen(world, world.bot, bob, world.spotify.track_ids()[0], clock.ms)
    clock.ms += length
    await stop(world, world.bot, bob)
    assert len(await stored_plays(world.bot, bob)) == 1
    offer = await world.answer("privacy", bob, options={"record": False})
    click = await world.discord.click(offer, button_id(offer, "Keep them"), user=bob)
    await click.wait_message(lambda m: "Kept" in m.text())
    assert len(await stored_plays(world.bot, bob)) == 1
    back = await world.answer("privacy", bob, options={"record": True})
    assert "may record your listening again" in back.text()
    assert back.buttons() == []


async def test_nowplaying_from_presence_needs_no_spotify_request(world: World) -> None:
    await record_here(world)
    bob, carol = world.members[1], world.members[2]
    clock = Clock()
    use_clock(world.bot, clock)
    track = world.spotify.track_ids()[3]
    length = await listen(world, world.bot, bob, track, clock.ms)
    clock.ms += length
    await listen(world, world.bot, bob, track, clock.ms)  # the same track again
    await stored_plays(world.bot, bob)
    world.spotify.clear_requests()
    reply = await world.answer("nowplaying", carol, options={"member": bob})
    assert world.spotify.requests == []
    assert not reply.ephemeral
    presence = world.spotify.presence_track(track)
    text = reply.text()
    assert presence.title in text and presence.album in text
    assert "1 play" in text
    assert "From Discord presence" in text
    assert button_id(reply, "Save to my Spotify") == f"encore:np-save:{track}"


async def test_nowplaying_for_a_linked_member_reads_currently_playing(world: World) -> None:
    alice = world.members[0]
    await world.link(alice, "user0")
    track = world.spotify.track_ids()[6]
    world.spotify.set_currently_playing("user0", track, progress_ms=61_000)
    world.spotify.clear_requests()
    reply = await world.answer("nowplaying", alice)
    assert len(world.spotify.requests_to("/me/player/currently-playing")) == 1
    assert world.spotify.presence_track(track).title in reply.text()
    assert "From Spotify" in reply.text()
    assert "1:01 /" in reply.text()


async def test_nowplaying_save_button(world: World) -> None:
    alice, bob = world.members[:2]
    await world.link(alice, "user0")
    track = world.spotify.track_ids()[5]
    await listen(world, world.bot, bob, track, Clock().ms)
    reply = await world.answer("nowplaying", bob)
    save = button_id(reply, "Save to my Spotify")
    hint = await (await world.discord.click(reply, save, user=bob)).wait_message()
    assert hint.ephemeral and "/link" in hint.text()
    saved = await (await world.discord.click(reply, save, user=alice)).wait_message()
    assert saved.ephemeral and "Saved" in saved.text()
    assert f"spotify:track:{track}" in world.spotify.users["user0"].library


async def test_nothing_playing_shows_the_last_play(world: World) -> None:
    await record_here(world)
    carol = world.members[2]
    clock = Clock()
    use_clock(world.bot, clock)
    track = world.spotify.track_ids()[1]
    length = await listen(world, world.bot, carol, track, clock.ms)
    clock.ms += length
    await stop(world, world.bot, carol)
    await stored_plays(world.bot, carol)
    reply = await world.answer("nowplaying", carol)
    assert "isn't playing anything" in reply.text()
    assert "Last recorded play" in reply.text()
    assert world.spotify.presence_track(track).title in reply.text()


async def test_recent_pages_plays_with_relative_times_and_sources(world: World) -> None:
    await record_here(world)
    alice, bob = world.members[:2]
    clock = Clock()
    use_clock(world.bot, clock)
    tracks = world.spotify.track_ids()[:12]
    for track in tracks:
        clock.ms += await listen(world, world.bot, alice, track, clock.ms)
    await stop(world, world.bot, alice)
    assert len(await stored_plays(world.bot, alice)) == 12
    reply = await world.answer("recent", bob, options={"member": alice})
    text = reply.text()
    assert text.count(":R>") == 10
    assert "Discord" in text
    assert world.spotify.presence_track(tracks[-1]).title in text
    turned = await world.discord.click(reply, button_id(reply, "▶️"), user=bob)
    page = await turned.wait_message()
    assert world.spotify.presence_track(tracks[0]).title in page.text()


async def test_recent_of_a_hidden_member_is_refused(world: World) -> None:
    alice, bob = world.members[:2]
    await world.answer("privacy", alice, options={"visible": False})
    reply = await world.answer("recent", bob, options={"member": alice})
    assert reply.ephemeral
    assert "private" in reply.text()


async def test_nowplaying_counts_the_members_here_who_know_the_artist(world: World) -> None:
    await record_here(world)
    alice, bob, carol = world.members
    clock = Clock()
    use_clock(world.bot, clock)
    track = world.spotify.track_ids()[7]
    for listener in (bob, carol):  # carol never runs a command: her presence makes her known
        length = await listen(world, world.bot, listener, track, clock.ms)
        clock.ms += length
        await stop(world, world.bot, listener)
    await stored_plays(world.bot, carol)
    await world.bot.services.members.drain()
    await listen(world, world.bot, bob, track, clock.ms)
    reply = await world.answer("nowplaying", alice, options={"member": bob})
    assert "Members here who know the artist: 2" in reply.text()
    assert "Plays of this track: 1 play" in reply.text()


async def test_a_member_hidden_by_another_process_is_refused_privately_after_the_defer(
    world: World,
) -> None:
    """Memory did not know the choice yet, so the command answered Discord first: the check
    that follows still refuses, and the public thinking reply gives way to a private one."""
    alice, bob = world.members[:2]
    async with session_scope(world.bot.sessions) as session:
        await set_visible(session, world.guild.id, alice.id, False, datetime.now(UTC))
    interaction = await world.run("recent", bob, options={"member": alice})
    reply = await interaction.wait_message()
    assert reply.ephemeral
    assert "private" in reply.text()
    assert interaction.deferred
    assert all(m.deleted for m in interaction.messages if not m.ephemeral)
