"""The stand-in's gateway: the handshake frame by frame, then shards and resumes with discord.py."""

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from sandbox.discord import DiscordStandIn
from tests.helpers.discord_standin import raw_gateway, running_client


async def test_identify_gets_ready_then_each_guild(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    first = discord_standin.add_guild(name="One", members=[alice])
    second = discord_standin.add_guild(name="Two")

    async with raw_gateway(discord_standin) as gateway:
        await gateway.identify(discord_standin.token, intents=(1 << 0) | (1 << 1))
        ready = await gateway.receive()
        creates = [await gateway.receive(), await gateway.receive()]

    assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
    assert ready["d"]["user"]["id"] == str(discord_standin.bot.id)
    assert ready["d"]["application"]["id"] == str(discord_standin.application_id)
    assert ready["d"]["resume_gateway_url"] == discord_standin.gateway_url
    assert ready["d"]["guilds"] == [
        {"id": str(first.id), "unavailable": True},
        {"id": str(second.id), "unavailable": True},
    ]
    assert [c["t"] for c in creates] == ["GUILD_CREATE", "GUILD_CREATE"]
    one = creates[0]["d"]
    assert one["name"] == "One"
    assert one["member_count"] == 2
    assert [m["user"]["id"] for m in one["members"]] == [str(discord_standin.bot.id)]
    assert [c["id"] for c in one["channels"]] == [str(first.channel_id)]


async def test_presences_intent_sends_every_member(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    discord_standin.add_guild(members=[alice])

    async with raw_gateway(discord_standin) as gateway:
        await gateway.identify(discord_standin.token, intents=(1 << 0) | (1 << 8))
        guild = (await gateway.dispatched("GUILD_CREATE"))["d"]

    assert {m["user"]["username"] for m in guild["members"]} == {"Encore", "alice"}


async def test_heartbeat_is_acknowledged(discord_standin: DiscordStandIn) -> None:
    async with raw_gateway(discord_standin) as gateway:
        await gateway.send(1, None)

        assert await gateway.receive() == {"op": 11}


async def test_wrong_token_closes_with_4004(discord_standin: DiscordStandIn) -> None:
    async with raw_gateway(discord_standin) as gateway:
        await gateway.identify("not-the-token")
        await gateway.ws.receive()

        assert gateway.ws.close_code == 4004


async def test_shard_outside_the_count_closes_with_4010(discord_standin: DiscordStandIn) -> None:
    async with raw_gateway(discord_standin) as gateway:
        await gateway.identify(discord_standin.token, shard=[2, 2])
        await gateway.ws.receive()

        assert gateway.ws.close_code == 4010


async def test_member_request_is_answered_with_a_chunk(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    bob = discord_standin.add_user(name="bob")
    guild = discord_standin.add_guild(members=[alice, bob])

    async with raw_gateway(discord_standin) as gateway:
        await gateway.identify(discord_standin.token)
        await gateway.dispatched("GUILD_CREATE")
        request = {"guild_id": str(guild.id), "query": "AL", "limit": 0, "nonce": "n1"}
        await gateway.send(8, request)
        chunk = (await gateway.dispatched("GUILD_MEMBERS_CHUNK"))["d"]

    assert [m["user"]["username"] for m in chunk["members"]] == ["alice"]
    assert chunk["nonce"] == "n1"


async def test_member_events_need_the_members_intent(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    guild = discord_standin.add_guild(members=[alice])

    async with raw_gateway(discord_standin) as gateway:
        await gateway.identify(discord_standin.token, intents=1 << 0)
        await gateway.dispatched("GUILD_CREATE")
        discord_standin.remove_member(guild.id, alice.id)
        discord_standin.remove_guild(guild.id)

        assert (await gateway.receive())["t"] == "GUILD_DELETE"


async def test_unknown_session_cannot_resume(discord_standin: DiscordStandIn) -> None:
    async with raw_gateway(discord_standin) as gateway:
        resume = {"token": discord_standin.token, "session_id": "nope", "seq": 3}
        await gateway.send(6, resume)

        assert await gateway.receive() == {"op": 9, "d": False}


class ShardedBot(commands.AutoShardedBot):
    def __init__(self, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            **options,
        )
        self.tree.add_command(
            app_commands.Command(name="where", description="Shard", callback=self.where)
        )

    async def where(self, interaction: discord.Interaction) -> None:
        assert interaction.guild is not None
        await interaction.response.send_message(f"shard {interaction.guild.shard_id}")

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """The stand-in has no identify rate limit, so no 5 s pause between shards."""


async def test_each_shard_gets_its_own_guilds(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    guilds = [discord_standin.add_guild(name=f"G{i}", members=[alice]) for i in range(4)]

    async with running_client(discord_standin, ShardedBot(shard_count=2)) as bot:
        sessions = discord_standin.sessions
        answers = []
        for guild in guilds:
            interaction = await discord_standin.invoke("where", user=alice, guild_id=guild.id)
            answers.append((await interaction.wait_message()).content)

        assert [s.shard_id for s in sessions] == [0, 1]
        for session in sessions:
            expected = [g.id for g in guilds if (g.id >> 22) % 2 == session.shard_id]
            assert session.guild_ids == expected
            assert expected
        assert answers == [f"shard {(g.id >> 22) % 2}" for g in guilds]
        assert sorted(bot.shards) == [0, 1]


async def test_auto_sharding_follows_the_recommended_count(
    discord_standin: DiscordStandIn,
) -> None:
    discord_standin.recommended_shards = 2
    discord_standin.add_guild()

    async with running_client(discord_standin, ShardedBot()) as bot:
        assert bot.shard_count == 2
        assert [s.shard_count for s in discord_standin.sessions] == [2, 2]
        assert discord_standin.requests_to("/gateway/bot")


class ResumingBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
        )
        self.resumed = asyncio.Event()
        self.tree.add_command(
            app_commands.Command(name="ping", description="Ping", callback=self.ping)
        )

    async def ping(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_resumed(self) -> None:
        self.resumed.set()


async def test_reconnect_resumes_the_session(discord_standin: DiscordStandIn) -> None:
    alice = discord_standin.add_user(name="alice")
    guild = discord_standin.add_guild(members=[alice])

    async with running_client(discord_standin, ResumingBot()) as bot:
        (session,) = discord_standin.sessions
        await discord_standin.reconnect()
        await asyncio.wait_for(bot.resumed.wait(), 5)
        interaction = await discord_standin.invoke("ping", user=alice, guild_id=guild.id)

        assert (await interaction.wait_message()).content == "pong"
        assert discord_standin.sessions == [session]
        assert session.resumes == 1
