"""Runs the real Encore bot against the Discord stand-in and the Spotify sandbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.app import Encore
from bot.config import Settings
from bot.db.models import GuildMember
from sandbox.demo import (
    CLIENT_ID,
    CLIENT_SECRET,
    CallbackPage,
    encore_settings,
    free_port,
    has_text,
    link_button_url,
    walk_link,
)
from sandbox.discord import DiscordStandIn
from sandbox.discord_client import running_client
from sandbox.discord_interactions import StandInInteraction
from sandbox.discord_models import StandInGuild, StandInMessage, StandInUser
from sandbox.spotify import SpotifySandbox
from tests.helpers.secrets import LogCollector, database_text, leaks
from tests.helpers.spotify_sandbox import SandboxFactory

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "World",
    "button_id",
    "encore_settings",
    "free_port",
    "has_text",
    "link_button_url",
]


@dataclass
class World:
    """The bot, both stand-ins, one guild, and the members playing in it."""

    bot: Encore
    discord: DiscordStandIn
    spotify: SpotifySandbox
    guild: StandInGuild
    members: list[StandInUser]
    settings: Settings
    linked: dict[int, str] = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.WEB_PORT}"

    async def run(
        self,
        command: str,
        user: StandInUser,
        *,
        options: dict[str, Any] | None = None,
        in_guild: bool = True,
        guild: StandInGuild | None = None,
    ) -> StandInInteraction:
        """Run a command in `guild` (default: the world's guild), or in DMs (`in_guild=False`)."""
        return await self.discord.invoke(
            command,
            user=user,
            guild_id=(guild or self.guild).id if in_guild else None,
            options=options,
        )

    async def answer(
        self,
        command: str,
        user: StandInUser,
        *,
        options: dict[str, Any] | None = None,
        in_guild: bool = True,
        guild: StandInGuild | None = None,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> StandInMessage:
        """Run a command and return the bot's answer once it is there."""
        interaction = await self.run(command, user, options=options, in_guild=in_guild, guild=guild)
        return await interaction.wait_message(timeout=timeout)

    async def follow_link(
        self, url: str, spotify_user: str | None, *, deny: bool = False
    ) -> CallbackPage:
        """Walk a member's browser from the /link button through Spotify to the callback."""
        return await walk_link(self.spotify, url, spotify_user=spotify_user, deny=deny)

    async def link(
        self, member: StandInUser, spotify_user: str, *, guild: StandInGuild | None = None
    ) -> StandInMessage:
        """The full /link flow (in `guild`, default the world's); returns the /link reply once
        it says the member is linked."""
        interaction = await self.run("link", member, guild=guild)
        reply = await interaction.wait_message()
        response = await self.follow_link(link_button_url(reply), spotify_user)
        assert response.status == 200
        self.linked[member.id] = spotify_user
        return await interaction.wait_message(has_text("are in"), timeout=15)

    async def remove_member(self, member: StandInUser, guild: StandInGuild | None = None) -> None:
        """`member` leaves `guild` (default the world's); returns once the bot stored it (the
        gateway event answers nothing to wait on)."""
        self.discord.remove_member((guild or self.guild).id, member.id)
        await self.membership_stored(member, False, guild)

    async def membership_stored(
        self, member: StandInUser, present: bool, guild: StandInGuild | None = None
    ) -> None:
        """Wait until the bot's stored membership of `member` in `guild` is `present`."""
        guild_id = (guild or self.guild).id
        for _ in range(400):
            async with self.bot.sessions() as session:
                if (await session.get(GuildMember, (guild_id, member.id)) is not None) == present:
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("the bot did not store the membership change in time")


def button_id(message: StandInMessage, emoji: str) -> str:
    """The custom id of the button showing `emoji` (e.g. the paginator's "▶️")."""
    for button in message.buttons():
        shown = button.get("emoji") or {}
        if shown.get("name") == emoji or button.get("label") == emoji:
            custom_id: str = button["custom_id"]
            return custom_id
    raise LookupError(f"no {emoji} button on {message.buttons()}")


@pytest.fixture
def world_settings() -> dict[str, Any]:
    """Extra settings for the bot of `world`; a test module may override this fixture."""
    return {}


@pytest.fixture
async def world(
    discord_standin: DiscordStandIn,
    make_spotify_sandbox: SandboxFactory,
    db_url: str,
    tmp_path: Path,
    world_settings: dict[str, Any],
) -> AsyncIterator[World]:
    port = free_port()
    sandbox = await make_spotify_sandbox(redirect_uris=[f"http://127.0.0.1:{port}/callback"])
    members = [discord_standin.add_user(name=name) for name in ("alice", "bob", "carol")]
    guild = discord_standin.add_guild(name="Encore Test", members=members, channels=["picks"])
    settings = encore_settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        port=port,
        sandbox=sandbox,
        **world_settings,
    )
    bot = Encore(settings, guild_ready_timeout=0.05)
    bot.run_background_sync = False
    collector = LogCollector()
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        async with running_client(discord_standin, bot):
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            yield World(bot, discord_standin, sandbox, guild, members, settings)
            stored = await database_text(bot.sessions, db_url)
    finally:
        root.removeHandler(collector)
        root.setLevel(saved_level)
    found = leaks(sandbox.accounts.issued, database=stored, logs="\n".join(collector.lines))
    assert not found, f"secrets leaked: {found}"
