"""Runs the real Encore bot against the Discord stand-in and the Spotify sandbox."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import Encore
from bot.config import Settings, load_settings
from bot.sandbox.discord import DiscordStandIn
from bot.sandbox.discord_interactions import StandInInteraction
from bot.sandbox.discord_models import StandInGuild, StandInMessage, StandInUser
from bot.sandbox.spotify import SpotifySandbox

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def encore_settings(
    *, data_dir: Path, database_url: str, port: int, sandbox: SpotifySandbox, **extra: Any
) -> Settings:
    return load_settings(
        _env_file=None,
        DISCORD_TOKEN="standin-token",
        SPOTIFY_CLIENT_ID=CLIENT_ID,
        SPOTIFY_CLIENT_SECRET=CLIENT_SECRET,
        SPOTIFY_REDIRECT_URI=f"http://127.0.0.1:{port}/callback",
        SPOTIFY_API_URL=sandbox.api_url,
        SPOTIFY_ACCOUNTS_URL=sandbox.accounts_url,
        DATA_DIR=data_dir,
        DATABASE_URL=database_url,
        WEB_HOST="127.0.0.1",
        WEB_PORT=port,
        LOG_LEVEL="DEBUG",
        SPOTIFY_INTERACTIVE_MAX_WAIT=2,
        **extra,
    )


def has_text(fragment: str) -> Callable[[StandInMessage], bool]:
    return lambda message: fragment.casefold() in message.text().casefold()


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
    ) -> StandInInteraction:
        return await self.discord.invoke(
            command,
            user=user,
            guild_id=self.guild.id if in_guild else None,
            options=options,
        )

    async def answer(
        self,
        command: str,
        user: StandInUser,
        *,
        options: dict[str, Any] | None = None,
        in_guild: bool = True,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> StandInMessage:
        """Run a command and return the bot's answer once it is there."""
        interaction = await self.run(command, user, options=options, in_guild=in_guild)
        return await interaction.wait_message(timeout=timeout)

    async def follow_link(
        self, url: str, spotify_user: str | None, *, deny: bool = False
    ) -> aiohttp.ClientResponse:
        """Walk a member's browser from the /link button through Spotify to the callback."""
        if spotify_user is not None:
            self.spotify.authorizing_user = spotify_user
        if deny:
            self.spotify.deny_next_authorization()
        async with aiohttp.ClientSession() as browser:
            start = await browser.get(url, allow_redirects=False)
            assert start.status == 302, await start.text()
            consent = await browser.get(start.headers["Location"], allow_redirects=False)
            assert consent.status == 302, await consent.text()
            callback = await browser.get(consent.headers["Location"], allow_redirects=False)
            await callback.read()
            return callback

    async def link(self, member: StandInUser, spotify_user: str) -> StandInMessage:
        """The full /link flow; returns the /link reply once it says the member is linked."""
        interaction = await self.run("link", member)
        reply = await interaction.wait_message()
        response = await self.follow_link(link_button_url(reply), spotify_user)
        assert response.status == 200
        self.linked[member.id] = spotify_user
        return await interaction.wait_message(has_text("are in"), timeout=15)


def link_button_url(message: StandInMessage) -> str:
    urls = [b["url"] for b in message.buttons() if b.get("url")]
    assert len(urls) == 1, message.buttons()
    url: str = urls[0]
    return url


def button_id(message: StandInMessage, emoji: str) -> str:
    """The custom id of the button showing `emoji` (e.g. the paginator's "▶️")."""
    for button in message.buttons():
        shown = button.get("emoji") or {}
        if shown.get("name") == emoji or button.get("label") == emoji:
            custom_id: str = button["custom_id"]
            return custom_id
    raise LookupError(f"no {emoji} button on {message.buttons()}")
