"""`python -m bot check` and `invite`: what is wrong with the configuration, and how to fix it."""

from __future__ import annotations

import base64
import binascii

import aiohttp
import discord

from bot.config import Settings
from bot.spotify.errors import InvalidClient, SpotifyError
from bot.spotify.oauth import SpotifyOAuth

PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    use_external_emojis=True,
)


def application_id_from_token(token: str) -> int | None:
    """A bot token's first segment is the base64 of the bot's user id (= application id)."""
    head = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(head + "=" * (-len(head) % 4)).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def invite_url(settings: Settings) -> str:
    assert settings.DISCORD_TOKEN is not None
    app_id = application_id_from_token(settings.DISCORD_TOKEN.get_secret_value())
    if app_id is None:
        raise SystemExit("DISCORD_TOKEN does not look like a bot token: copy it again.")
    return discord.utils.oauth_url(
        app_id, permissions=PERMISSIONS, scopes=("bot", "applications.commands")
    )


async def _check_discord(http: aiohttp.ClientSession, token: str, api: str) -> str | None:
    try:
        async with http.get(f"{api}/users/@me", headers={"Authorization": f"Bot {token}"}) as resp:
            if resp.status == 401:
                return "Discord refused DISCORD_TOKEN: reset and copy the bot token again."
            if resp.status >= 400:
                return f"Discord answered {resp.status} when checking the token."
    except (aiohttp.ClientError, TimeoutError):
        return "SKIP: Discord could not be reached from here; the token was not checked."
    return None


async def _check_spotify(http: aiohttp.ClientSession, settings: Settings) -> str | None:
    assert settings.SPOTIFY_CLIENT_ID and settings.SPOTIFY_CLIENT_SECRET
    oauth = SpotifyOAuth(
        http,
        client_id=settings.SPOTIFY_CLIENT_ID,
        client_secret=settings.SPOTIFY_CLIENT_SECRET.get_secret_value(),
        redirect_uri=settings.SPOTIFY_REDIRECT_URI,
        accounts_url=settings.SPOTIFY_ACCOUNTS_URL,
        timeout=settings.SPOTIFY_TIMEOUT_SECONDS,
    )
    try:
        await oauth.check_client_credentials()
    except InvalidClient:
        return (
            "Spotify refused SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET: copy both again from "
            "the app's Settings page in the Spotify Developer Dashboard."
        )
    except SpotifyError as exc:
        if isinstance(exc.__cause__, aiohttp.ClientError | TimeoutError) or exc.status is None:
            return "SKIP: Spotify could not be reached from here; credentials were not checked."
        return f"Spotify answered {exc.status} when checking the client credentials."
    return None


async def run_checks(settings: Settings) -> int:
    print("Configuration: loaded and valid.")
    print(f"  database:     {settings.DATABASE_URL.split('@')[-1]}")
    print(f"  redirect URI: {settings.SPOTIFY_REDIRECT_URI} (register it in the Spotify app)")
    print(f"  web server:   {settings.WEB_HOST}:{settings.WEB_PORT}")
    problems = [f"{name} is not set (see .env.example)." for name in settings.missing_credentials()]
    api = settings.DISCORD_API_URL or discord.http.Route.BASE
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        if settings.DISCORD_TOKEN:
            found = await _check_discord(http, settings.DISCORD_TOKEN.get_secret_value(), api)
            problems += [found] if found else []
        if settings.SPOTIFY_CLIENT_ID and settings.SPOTIFY_CLIENT_SECRET:
            found = await _check_spotify(http, settings)
            problems += [found] if found else []
    skips = [p for p in problems if p.startswith("SKIP: ")]
    errors = [p for p in problems if not p.startswith("SKIP: ")]
    for skip in skips:
        print(f"  ? {skip.removeprefix('SKIP: ')}")
    for error in errors:
        print(f"  ✗ {error}")
    if not errors:
        print("All checks passed." if not skips else "No problems found in what could be checked.")
    return 1 if errors else 0
