"""`python -m bot demo`: the real Encore bot against local stand-ins, no credentials needed.

The Spotify sandbox and the Discord stand-in listen on loopback, the bot keeps a SQLite
database in a temporary folder, sample members link through the real OAuth flow, and a short
tour of commands is printed as a transcript. The end-to-end tests build their world from the
same pieces: `free_port`, `encore_settings` and `walk_link`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.app import Encore
from bot.config import Settings
from bot.process.logs import ContextFilter
from bot.services.presence import PresenceTracker
from bot.ui.account import LATER_NOTE, READY_NOTE
from sandbox.browser import consent, new_browser, submit, upload
from sandbox.demo_history import DemoHistory, demo_history
from sandbox.demo_render import Transcript, button_label
from sandbox.discord import DiscordStandIn
from sandbox.discord_client import running_client
from sandbox.discord_interactions import StandInInteraction
from sandbox.discord_models import StandInGuild, StandInMessage, StandInUser
from sandbox.spotify import SpotifySandbox

log = logging.getLogger(__name__)

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
CAST = (("alice", "user0"), ("bob", "user1"), ("carol", "user2"))
LISTENER = "dave"  # never links: his plays come from his Spotify status in Discord
"""The sample members: Discord name and the sandbox's Spotify user each one links."""
REPLY_WAIT = 15.0
TOUR_LIMIT = 90.0
LOG_FILE = "encore.log"
CARD_FILE = "wrapped.png"
IMPORTED = "Imported your Spotify history"
_LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s%(ctx)s"
_HEADING = re.compile(r"<h1>(.*?)</h1>", re.DOTALL)


class DemoError(RuntimeError):
    """A stand-in or the bot answered something the tour cannot go on from."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ArgumentSettings(Settings):
    """Settings from the constructor's arguments alone: the environment and `.env` of the
    machine running the demo or the tests cannot point the bot elsewhere."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def encore_settings(
    *, data_dir: Path, database_url: str, port: int, sandbox: SpotifySandbox, **extra: Any
) -> Settings:
    """Settings that point the bot at `sandbox`, with its web server on loopback `port`."""
    values: dict[str, Any] = {
        "DISCORD_TOKEN": "standin-token",
        "SPOTIFY_CLIENT_ID": CLIENT_ID,
        "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
        "SPOTIFY_REDIRECT_URI": f"http://127.0.0.1:{port}/callback",
        "SPOTIFY_API_URL": sandbox.api_url,
        "SPOTIFY_ACCOUNTS_URL": sandbox.accounts_url,
        "DATA_DIR": data_dir,
        "DATABASE_URL": database_url,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": port,
        "LOG_LEVEL": "DEBUG",
        "SPOTIFY_INTERACTIVE_MAX_WAIT": 2,
        **extra,
    }
    return ArgumentSettings(**values)


def has_text(fragment: str) -> Callable[[StandInMessage], bool]:
    return lambda message: fragment.casefold() in message.text().casefold()


def link_button_url(message: StandInMessage) -> str:
    """The URL of the one link button on a /link reply."""
    urls = [str(b["url"]) for b in message.buttons() if b.get("url")]
    if len(urls) != 1:
        raise LookupError(f"expected one link button, found {len(urls)}")
    return urls[0]


@dataclass(frozen=True)
class CallbackPage:
    """What the member's browser shows after Spotify sent it back to the bot."""

    status: int
    text: str

    @property
    def title(self) -> str:
        found = _HEADING.search(self.text)
        return unescape(found[1]).strip() if found else ""


async def walk_link(
    spotify: SpotifySandbox,
    url: str,
    *,
    spotify_user: str | None = None,
    deny: bool = False,
    browser: aiohttp.ClientSession | None = None,
) -> CallbackPage:
    """Walk a member's browser from the /link button through the bot's /link page and the
    sandbox's consent page (as `spotify_user`, or refusing when `deny`) to the bot's
    callback. A fresh browser unless `browser` is given."""
    if spotify_user is not None:
        spotify.authorizing_user = spotify_user
    if deny:
        spotify.deny_next_authorization()
    if browser is None:
        async with new_browser() as fresh:
            return await walk_link(spotify, url, browser=fresh)
    async with browser.get(url, allow_redirects=False) as response:
        page = await response.text()
        if response.status != 200:
            raise DemoError(f"the bot's /link page answered {response.status}")
    sent = await submit(browser, url, page)
    if sent.status != 303:
        raise DemoError(f"the bot's /link form answered {sent.status} instead of a redirect")
    try:
        callback = await consent(browser, sent.headers["Location"])
    except LookupError as exc:
        raise DemoError(f"the Spotify sandbox's consent page: {exc}") from None
    async with browser.get(callback, allow_redirects=False) as response:
        return CallbackPage(response.status, await response.text())


def _shown(value: Any) -> str:
    return f"@{value.name}" if isinstance(value, StandInUser) else str(value)


class Tour:
    """Plays the members: each step runs a real command through the stand-in and prints it."""

    def __init__(
        self,
        discord: DiscordStandIn,
        spotify: SpotifySandbox,
        guild: StandInGuild,
        transcript: Transcript,
        *,
        members: Mapping[str, StandInUser],
        presence: PresenceTracker | None = None,
        step_delay: float = 0,
        keep_dir: Path | None = None,
    ) -> None:
        self.presence = presence
        self.keep_dir = keep_dir
        self.discord = discord
        self.spotify = spotify
        self.guild = guild
        self.transcript = transcript
        self.members = dict(members)
        self.step_delay = step_delay

    async def play(self) -> None:
        self.transcript.heading("Linking Spotify: /link, Spotify's consent page, the callback")
        for name, spotify_user in CAST:
            await self.link(self.members[name], spotify_user)
        alice, bob, carol = (self.members[name] for name, _ in CAST)
        self.transcript.heading("A short tour")
        await self.ask(alice, "top artists")
        await self.ask(bob, "leaderboard artists")
        await self.ask(carol, "compat", {"member": alice})
        await self.share_and_save(alice, bob)
        if self.presence is not None and LISTENER in self.members:
            await self.listening(alice, bob, self.members[LISTENER])
            await self.rankings_by_plays(alice, bob)

    async def listening(
        self, admin: StandInUser, asker: StandInUser, listener: StandInUser
    ) -> None:
        """Plays of a member who never linked, from the Spotify status Discord shows."""
        self.transcript.heading("Listening history: plays from Discord presence, no link needed")
        await self.ask(admin, "settings", {"record_listening": True})
        first, second, third = self.spotify.track_ids()[:3]
        lengths = [self.spotify.presence_track(t).duration_ms for t in (first, second)]
        started = datetime.now(UTC) - timedelta(milliseconds=sum(lengths) + 30_000)
        for track_id, length in ((first, lengths[0]), (second, lengths[1]), (third, 0)):
            await self.play_spotify(listener, track_id, started)
            started += timedelta(milliseconds=length)
        self.transcript.note(
            f"{listener.name}'s Discord status showed two whole tracks on Spotify and now a third"
        )
        assert self.presence is not None
        await self.presence.flush()
        await self.ask(asker, "nowplaying", {"member": listener})
        await self.ask(asker, "recent", {"member": listener})

    async def rankings_by_plays(self, importer: StandInUser, asker: StandInUser) -> None:
        """The importer's recent listening arrives through /import; then a ranking by plays,
        who knows one of the tracks the listener played, and the importer's /wrapped card."""
        self.transcript.heading("Plays from an imported history: rankings by plays, a year's card")
        favourites = self.spotify.users[self.spotify_user_of(importer)].top_tracks["medium_term"]
        heard = self.spotify.track_ids()[:3]  # what the listener's status showed
        now = datetime.now(UTC)
        history = demo_history(self.spotify.catalog.data, favourites[:25], now, also=heard)
        await self.import_history(importer, history)
        await self.ask(asker, "leaderboard artists", {"period": "month"})
        track = self.spotify.catalog.tracks[heard[0]]
        await self.ask(asker, "whoknows track", {"track": track.name})
        card = await self.ask(
            importer, "wrapped", {} if history.year == now.year else {"year": history.year}
        )
        if self.keep_dir is not None and card.attachments:
            path = self.keep_dir / CARD_FILE
            path.write_bytes(card.attachments[0].data)
            self.transcript.note(f"the card is saved as {path}")

    async def import_history(self, member: StandInUser, history: DemoHistory) -> None:
        """`member` runs /import and uploads `history` on the bot's page, as a browser does."""
        interaction = await self.run(member, "import")
        offer = await interaction.wait_message(timeout=REPLY_WAIT)
        self.transcript.message(offer)
        url = link_button_url(offer)
        await self.pause()
        async with new_browser() as browser:
            async with browser.get(url) as response:
                page = await response.text()
                if response.status != 200:
                    raise DemoError(f"the bot's /import page answered {response.status}")
            sent = await upload(browser, url, page, [(history.file_name, history.body)])
        if sent.status != 303:
            raise DemoError(f"the /import upload answered {sent.status} instead of a redirect")
        self.transcript.note(
            f"{member.name} opens the link and uploads {history.file_name}: "
            f"{history.plays} plays of the last weeks of {history.year}, from Spotify's "
            "“Extended streaming history”"
        )
        done = await interaction.wait_message(has_text(IMPORTED), timeout=REPLY_WAIT)
        self.transcript.message(done, caption="Encore (the /import reply, edited)")

    async def play_spotify(self, user: StandInUser, track_id: str, started: datetime) -> None:
        """`user`'s status shows `track_id` from `started`; returns once the bot has seen it."""
        assert self.presence is not None
        presence = self.presence
        self.discord.play_spotify(user, self.spotify.presence_track(track_id), started_at=started)
        async with asyncio.timeout(REPLY_WAIT):
            while (now := presence.current(user.id)) is None or now.track_id != track_id:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    async def pause(self) -> None:
        if self.step_delay > 0:
            await asyncio.sleep(self.step_delay)

    async def run(
        self, member: StandInUser, command: str, options: Mapping[str, Any] | None = None
    ) -> StandInInteraction:
        await self.pause()
        shown = {name: _shown(value) for name, value in (options or {}).items()}
        self.transcript.command(member.name, command, shown)
        return await self.discord.invoke(
            command, user=member, guild_id=self.guild.id, options=options
        )

    async def ask(
        self, member: StandInUser, command: str, options: Mapping[str, Any] | None = None
    ) -> StandInMessage:
        interaction = await self.run(member, command, options)
        reply = await interaction.wait_message(timeout=REPLY_WAIT)
        self.transcript.message(reply)
        return reply

    async def link(self, member: StandInUser, spotify_user: str) -> None:
        account = self.spotify.users[spotify_user]
        interaction = await self.run(member, "link")
        offer = await interaction.wait_message(timeout=REPLY_WAIT)
        self.transcript.message(offer)
        url, button = link_button_url(offer), button_label(offer.buttons()[0])
        await self.pause()
        page = await walk_link(self.spotify, url, spotify_user=spotify_user)
        self.transcript.note(
            f"{member.name} presses [{button}], continues on the bot's /link page, approves "
            f"Encore on the Spotify sandbox as “{account.display_name}”, and the browser comes "
            f"back to the bot's callback: {page.status}, “{page.title}”"
        )
        if page.status != 200:
            raise DemoError(f"linking {member.name} failed: {page.title}")
        done = await interaction.wait_message(_linked, timeout=REPLY_WAIT)
        self.transcript.message(done, caption="Encore (the /link reply, edited)")

    async def share_and_save(self, sharer: StandInUser, saver: StandInUser) -> None:
        track_id = self._favourite_track_not_saved(sharer, saver)
        track = self.spotify.catalog.tracks[track_id]
        note = f"{saver.name}, you'll love this one"
        post = await self.ask(sharer, "share", {"item": f"spotify:track:{track_id}", "note": note})
        save = next((b for b in post.buttons() if b.get("custom_id")), None)
        if save is None:
            raise DemoError("the shared post has no Save button")
        await self.pause()
        revisions = len(post.revisions)
        self.transcript.action(saver.name, f"presses [{button_label(save)}] on the post")
        click = await self.discord.click(post, str(save["custom_id"]), user=saver)
        self.transcript.message(await click.wait_message(timeout=REPLY_WAIT))
        library = self.spotify.users[self.spotify_user_of(saver)].library
        where = "now holds" if f"spotify:track:{track_id}" in library else "does not hold"
        self.transcript.note(
            f"{saver.name}'s library in the Spotify sandbox {where} “{track.name}”"
        )
        updated = await self.discord.wait_channel_message(
            post.channel_id,
            lambda m: m.id == post.id and len(m.revisions) > revisions,
            timeout=REPLY_WAIT,
        )
        self.transcript.message(updated, caption="Encore (the shared post, edited)")

    def spotify_user_of(self, member: StandInUser) -> str:
        return dict(CAST)[member.name]

    def _favourite_track_not_saved(self, sharer: StandInUser, saver: StandInUser) -> str:
        """The sharer's highest-ranked track the saver does not have yet."""
        favourites = self.spotify.users[self.spotify_user_of(sharer)].top_tracks["medium_term"]
        library = self.spotify.users[self.spotify_user_of(saver)].library
        for track_id in [*favourites, *self.spotify.track_ids()]:
            if f"spotify:track:{track_id}" not in library:
                return track_id
        raise DemoError(f"{saver.name} has saved every track of the sandbox already")


def _linked(message: StandInMessage) -> bool:
    return READY_NOTE in message.text() or LATER_NOTE in message.text()


def _wants_colour(out: TextIO) -> bool:
    return out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


@contextmanager
def _logging_to(path: Path) -> Iterator[None]:
    """Send every log record (secrets scrubbed) to `path` and none to the terminal."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        handler.close()


async def _play(workdir: Path, transcript: Transcript, *, keep: bool, step_delay: float) -> None:
    port = free_port()
    data_dir = workdir / "data"
    async with (
        SpotifySandbox(redirect_uris=[f"http://127.0.0.1:{port}/callback"]) as spotify,
        DiscordStandIn() as discord,
    ):
        members = {name: discord.add_user(name=name) for name in (*dict(CAST), LISTENER)}
        guild = discord.add_guild(name="Encore Demo", members=members.values())
        transcript.names = lambda kind, entity_id: _name(discord, guild, kind, entity_id)
        settings = encore_settings(
            data_dir=data_dir,
            database_url=f"sqlite:///{data_dir / 'encore.db'}",
            port=port,
            sandbox=spotify,
            LOG_LEVEL="INFO",
            SPOTIFY_SYNC_BUDGET=3000,  # the sandbox has no rate limit worth pacing for
            DISCORD_PRESENCE_INTENT=True,
        )
        transcript.line(transcript.style.bold("Encore demo: the real bot, local stand-ins"))
        transcript.note(f"Discord stand-in {discord.base_url}, Spotify sandbox {spotify.base_url}")
        transcript.note(f"bot web server http://127.0.0.1:{port}, database and log in {workdir}")
        if not keep:
            transcript.note("(the folder is removed at the end; --keep keeps it)")
        transcript.note(f"server “{guild.name}” with members {', '.join(members)}")
        bot = Encore(settings, guild_ready_timeout=0.05)
        bot.run_background_sync = False
        async with running_client(discord, bot):
            await asyncio.wait_for(bot.wait_until_ready(), REPLY_WAIT)
            commands = len(discord.registered_commands())
            transcript.note(f"Encore is connected and registered {commands} slash commands")
            tour = Tour(
                discord,
                spotify,
                guild,
                transcript,
                members=members,
                presence=bot.services.presence,
                step_delay=step_delay,
                keep_dir=workdir if keep else None,
            )
            await tour.play()
        if discord.outside_hosts:
            raise DemoError(f"the bot tried to reach {', '.join(discord.outside_hosts)}")
        transcript.heading("Done")
        transcript.line(
            f"Everything stayed on 127.0.0.1: the Spotify sandbox answered {len(spotify.requests)} "
            f"requests and the Discord stand-in {len(discord.requests)}."
        )
        transcript.line(
            "To run Encore for a real server, fill in .env (README: “Setting it up for a "
            "server”) and start scripts/run."
        )


def _name(discord: DiscordStandIn, guild: StandInGuild, kind: str, entity_id: int) -> str | None:
    if kind == "user":
        user = discord.users.get(entity_id)
        return user.name if user else None
    channel = guild.channel(entity_id)
    return channel.name if channel else None


async def run_demo(
    out: TextIO,
    *,
    keep: bool = False,
    step_delay: float = 0,
    colour: bool | None = None,
    parent: Path | None = None,
) -> int:
    """Play the tour, writing the transcript to `out`: 0 when every step was answered, else 1.

    The temporary folder (under `parent`, default the system's) is removed at the end unless
    `keep` is set or the tour failed; the bot's log is in it.
    """
    transcript = Transcript(out, colour=_wants_colour(out) if colour is None else colour)
    workdir = Path(tempfile.mkdtemp(prefix="encore-demo-", dir=parent))
    failed = False
    try:
        with _logging_to(workdir / LOG_FILE):
            try:
                async with asyncio.timeout(TOUR_LIMIT):
                    await _play(workdir, transcript, keep=keep, step_delay=step_delay)
            except Exception as exc:
                failed = True
                log.exception("the demo stopped")
                transcript.line()
                transcript.line(transcript.style.failure(f"The demo stopped: {exc!r}"))
    finally:
        if keep or failed:
            transcript.line(f"Kept {workdir}: the bot's log ({LOG_FILE}) and database (data/).")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


def main(*, keep: bool = False, step_delay: float = 0) -> int:
    """The `python -m bot demo` entry point."""
    try:
        return asyncio.run(run_demo(sys.stdout, keep=keep, step_delay=step_delay))
    except KeyboardInterrupt:
        return 130
