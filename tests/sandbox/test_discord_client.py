"""running_client: discord.py pointed at the stand-in, kept off the internet, then restored."""

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from sandbox.discord import DiscordStandIn
from sandbox.discord_client import running_client


def client() -> discord.Client:
    return discord.Client(intents=discord.Intents.none())


async def test_client_connects_and_urls_are_restored() -> None:
    original = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY

    async with DiscordStandIn() as standin, running_client(standin, client()) as bot:
        assert standin.api_url == Route.BASE
        assert str(DiscordWebSocket.DEFAULT_GATEWAY) == standin.gateway_url
        assert bot.user is not None and bot.user.id == standin.bot.id
        assert [s.intents for s in standin.sessions] == [0]

    assert original == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    assert bot.is_closed()


async def test_outside_hosts_are_refused_and_recorded() -> None:
    async with DiscordStandIn() as standin, running_client(standin, client()) as bot:
        with pytest.raises(OSError, match=r"cdn\.discordapp\.com"):
            await bot.http.get_from_cdn("https://cdn.discordapp.com/avatars/1/a.png")

    assert standin.outside_hosts == ["cdn.discordapp.com"]


async def test_failing_setup_hook_propagates_and_restores_urls() -> None:
    class Broken(discord.Client):
        async def setup_hook(self) -> None:
            raise RuntimeError("setup failed")

    original = Route.BASE
    async with DiscordStandIn() as standin:
        with pytest.raises(RuntimeError, match="setup failed"):
            async with running_client(standin, Broken(intents=discord.Intents.none())):
                pass

    assert original == Route.BASE
