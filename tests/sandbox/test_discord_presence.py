"""Presences from the stand-in, as the real discord.py reads them: `member.activity` is a
`discord.Spotify` with the track's fields after GUILD_CREATE and after PRESENCE_UPDATE."""

import asyncio
from datetime import UTC, datetime, timedelta

import discord

from sandbox.discord import DiscordStandIn, SpotifyTrack
from sandbox.discord_gateway import GatewaySession
from tests.helpers.discord_standin import raw_gateway, running_client

ANTHEM = SpotifyTrack(
    id="4uLU6hMCjMI75M1A2tKUQC",
    title="Never Gonna Give You Up",
    artists=("Rick Astley",),
    album="Whenever You Need Somebody",
    cover_id="ab67616d0000b27315ebbedaacef61af244262a8",
    duration_ms=213_573,
)
DUET = SpotifyTrack(
    id="0nrRP2bk19rLc0orkWPQk2",
    title="Under Pressure",
    artists=("Queen", "David Bowie"),
    album="Hot Space",
    cover_id="ab67616d0000b273a6c5a1a7b4f8d0a3e6d9c2b1",
    duration_ms=248_440,
)
STARTED = datetime(2026, 5, 1, 20, 15, 30, 250_000, tzinfo=UTC)


def listening_client() -> discord.Client:
    intents = discord.Intents.none()
    intents.guilds = intents.members = intents.presences = True
    return discord.Client(intents=intents)


def spotify_of(member: discord.Member | None) -> discord.Spotify:
    assert member is not None
    activity = member.activity
    assert isinstance(activity, discord.Spotify), activity
    return activity


def events(session: GatewaySession, name: str) -> list[dict]:
    return [frame["d"] for frame in session.sent if frame["t"] == name]


async def test_guild_create_carries_the_spotify_activity(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    bob = discord_standin.add_user(name="bob")
    guild = discord_standin.add_guild(members=[alice, bob])
    discord_standin.play_spotify(alice, ANTHEM, started_at=STARTED)

    async with running_client(discord_standin, listening_client()) as bot:
        members = bot.get_guild(guild.id)
        assert members is not None
        spotify = spotify_of(members.get_member(alice.id))
        quiet = members.get_member(bob.id)

    assert spotify.title == "Never Gonna Give You Up"
    assert spotify.artists == ["Rick Astley"]
    assert spotify.album == "Whenever You Need Somebody"
    assert spotify.album_cover_url == f"https://i.scdn.co/image/{ANTHEM.cover_id}"
    assert spotify.track_id == ANTHEM.id
    assert spotify.start == STARTED
    assert spotify.end == STARTED + timedelta(milliseconds=ANTHEM.duration_ms)
    assert spotify.duration == timedelta(milliseconds=ANTHEM.duration_ms)
    assert spotify.party_id == f"spotify:{alice.id}"
    assert quiet is not None and quiet.activity is None


async def test_presence_update_changes_the_activity(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    guild = discord_standin.add_guild(members=[alice])

    async with running_client(discord_standin, listening_client()) as bot:

        async def next_update() -> discord.Member:
            _, after = await bot.wait_for(
                "presence_update", check=lambda _, m: m.id == alice.id, timeout=5
            )
            return after

        waiting = asyncio.create_task(next_update())
        await asyncio.sleep(0)
        discord_standin.play_spotify(alice, DUET, started_at=STARTED, duration_ms=60_000)
        playing = spotify_of(await waiting)

        waiting = asyncio.create_task(next_update())
        await asyncio.sleep(0)
        discord_standin.stop_spotify(alice)
        stopped = await waiting

    assert playing.title == "Under Pressure"
    assert playing.artists == ["Queen", "David Bowie"]
    assert playing.album == "Hot Space"
    assert playing.track_id == DUET.id
    assert playing.start == STARTED
    assert playing.duration == timedelta(seconds=60)
    assert stopped.activity is None
    assert stopped.status is discord.Status.online
    assert bot.get_guild(guild.id) is not None


async def test_one_presence_update_per_shared_guild(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    one = discord_standin.add_guild(name="One", members=[alice])
    two = discord_standin.add_guild(name="Two", members=[alice])
    discord_standin.add_guild(name="Elsewhere")

    async with running_client(discord_standin, listening_client()):
        discord_standin.play_spotify(alice, ANTHEM)
        await discord_standin.flushed()
        updates = events(discord_standin.sessions[0], "PRESENCE_UPDATE")

    assert sorted(u["guild_id"] for u in updates) == sorted([str(one.id), str(two.id)])
    assert {u["user"]["id"] for u in updates} == {str(alice.id)}
    assert all(u["status"] == "online" and u["client_status"] for u in updates)


async def test_without_the_presences_intent_nothing_is_sent(
    discord_standin: DiscordStandIn,
) -> None:
    alice = discord_standin.add_user(name="alice")
    discord_standin.add_guild(members=[alice])
    discord_standin.play_spotify(alice, ANTHEM)

    async with raw_gateway(discord_standin) as gateway:
        await gateway.identify(discord_standin.token, intents=(1 << 0) | (1 << 1))
        created = (await gateway.dispatched("GUILD_CREATE"))["d"]
        discord_standin.play_spotify(alice, DUET)
        discord_standin.stop_spotify(alice)
        await discord_standin.flushed()
        session = discord_standin.sessions[0]

    assert created["presences"] == []
    assert events(session, "PRESENCE_UPDATE") == []


async def test_guild_create_lists_online_members_only(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    bob = discord_standin.add_user(name="bob")
    discord_standin.add_guild(members=[alice, bob])
    discord_standin.play_spotify(alice, ANTHEM, started_at=STARTED)
    discord_standin.play_spotify(bob, DUET)
    discord_standin.go_offline(bob)

    async with raw_gateway(discord_standin) as gateway:
        await gateway.identify(discord_standin.token, intents=(1 << 0) | (1 << 8))
        created = (await gateway.dispatched("GUILD_CREATE"))["d"]

    [presence] = created["presences"]
    assert presence["user"] == {"id": str(alice.id)}
    [activity] = presence["activities"]
    assert activity["type"] == 2 and activity["name"] == "Spotify"
    assert activity["flags"] == 48 and activity["id"] == "spotify:1"
    assert activity["timestamps"]["start"] == int(STARTED.timestamp() * 1000)
    assert activity["assets"]["large_image"] == f"spotify:{ANTHEM.cover_id}"
    assert discord_standin.presence(bob) is None


async def test_a_listening_member_who_joins_brings_the_activity(
    discord_standin: DiscordStandIn,
) -> None:
    alice = discord_standin.add_user(name="alice")
    guild = discord_standin.add_guild()
    discord_standin.play_spotify(alice, ANTHEM)

    async with running_client(discord_standin, listening_client()) as bot:
        joined = asyncio.create_task(
            bot.wait_for("presence_update", check=lambda _, m: m.id == alice.id, timeout=5)
        )
        await asyncio.sleep(0)
        discord_standin.add_member(guild.id, alice)
        _, member = await joined

    assert spotify_of(member).track_id == ANTHEM.id


async def test_many_updates_at_once_end_with_the_last(discord_standin: DiscordStandIn) -> None:
    members = [discord_standin.add_user(name=f"m{n}") for n in range(20)]
    guild = discord_standin.add_guild(members=members)
    plays = [
        (member, track, STARTED + timedelta(minutes=round_))
        for round_, track in enumerate([ANTHEM, DUET, ANTHEM])
        for member in members
    ]

    last, final_start = members[-1], STARTED + timedelta(minutes=2)

    def is_last(_: discord.Member, after: discord.Member) -> bool:
        activity = after.activity
        return (
            after.id == last.id
            and isinstance(activity, discord.Spotify)
            and (activity.start == final_start)
        )

    async with running_client(discord_standin, listening_client()) as bot:
        finished = asyncio.create_task(bot.wait_for("presence_update", check=is_last, timeout=5))
        await asyncio.sleep(0)
        sent = discord_standin.play_spotify_many(plays)
        _, member = await finished
        cached = bot.get_guild(guild.id)
        first = cached.get_member(members[0].id) if cached else None

    assert sent == 60
    assert spotify_of(member).track_id == ANTHEM.id
    assert spotify_of(first).start == final_start
