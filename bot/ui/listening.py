"""/nowplaying, /recent, and the recording switches: embeds, the Save button, the delete
confirmation, and the texts of /settings record_listening and /privacy record."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.domain import PlaySource
from bot.services.listening import NowPlaying, Playing
from bot.store.plays import PlayRow
from bot.ui.items import ACCENT
from bot.ui.text import escape, truncate

SAVE_PRESSED = "nowplaying_save_pressed"
"""The event a press of /nowplaying's Save button dispatches: `(interaction, track_id)`."""
SAVE_BUTTON = re.compile(r"encore:np-save:(?P<id>[0-9A-Za-z]{1,64})")
DELETE_PLAYS = "encore:delete-plays"
RECENT_PER_PAGE = 10
SOURCE_WORDS = {
    PlaySource.PRESENCE: "Discord",
    PlaySource.RECENTLY_PLAYED: "Spotify",
    PlaySource.IMPORT: "import",
}


def _clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _when(moment: Any) -> str:
    return discord.utils.format_dt(moment, "R")


def _track_line(title: str, artists: Sequence[str], track_id: str | None) -> str:
    name = escape(truncate(title, 200))
    if track_id:
        name = f"[{name}](https://open.spotify.com/track/{track_id})"
    by = escape(truncate(", ".join(artists), 200)) if artists else "unknown artist"
    return f"**{name}** — {by}"


def now_playing_embed(whose: str, found: NowPlaying) -> discord.Embed:
    playing = found.playing
    if playing is None:
        embed = discord.Embed(
            title=f"{truncate(whose, 100)} isn't playing anything right now", colour=ACCENT
        )
        last = found.last
        if last is None:
            embed.description = "No plays are recorded yet."
        else:
            line = _track_line(last.track_name, last.artist_names, last.track_id)
            embed.description = f"Last recorded play: {line} · {_when(last.started_at)}"
            if last.image_url:
                embed.set_thumbnail(url=last.image_url)
        return embed
    return _playing_embed(whose, playing, found)


def _playing_embed(whose: str, playing: Playing, found: NowPlaying) -> discord.Embed:
    lines = [_track_line(playing.title, playing.artists, playing.track_id)]
    if playing.album:
        lines.append(f"on *{escape(truncate(playing.album, 200))}*")
    if playing.position_ms is not None and playing.duration_ms:
        lines.append(f"`{_clock(playing.position_ms)} / {_clock(playing.duration_ms)}`")
    embed = discord.Embed(
        title=f"{truncate(whose, 100)} is listening to", description="\n".join(lines), colour=ACCENT
    )
    if playing.cover_url:
        embed.set_thumbnail(url=playing.cover_url)
    primary = playing.artists[0] if playing.artists else "this artist"
    embed.add_field(name="Plays of this track", value=_plural(found.track_plays, "play"))
    embed.add_field(
        name=f"Plays of {truncate(primary, 200)}", value=_plural(found.artist_plays, "play")
    )
    embed.add_field(
        name="Members here who know the artist",
        value=str(found.artist_listeners),
    )
    embed.set_footer(
        text="From Discord presence" if playing.from_presence else "From Spotify (now playing)"
    )
    return embed


class SaveTrackButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=SAVE_BUTTON.pattern):
    """Saves the track to whoever presses it (survives restarts: the id is in the custom id)."""

    def __init__(self, track_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.success,
                label="Save to my Spotify",
                emoji="💚",
                custom_id=f"encore:np-save:{track_id}",
            )
        )
        self.track_id = track_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SaveTrackButton:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch(SAVE_PRESSED, interaction, self.track_id)


def now_playing_view(found: NowPlaying) -> discord.ui.View | None:
    if found.playing is None or not found.playing.track_id:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(SaveTrackButton(found.playing.track_id))
    return view


class RecentPlaysSource:
    """A member's recent plays, `RECENT_PER_PAGE` per page, newest first."""

    def __init__(self, whose: str, plays: Sequence[PlayRow]) -> None:
        self._whose = whose
        self._plays = plays

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(len(self._plays) / RECENT_PER_PAGE))

    async def page(self, index: int) -> discord.Embed:
        part = self._plays[index * RECENT_PER_PAGE : (index + 1) * RECENT_PER_PAGE]
        embed = discord.Embed(title=f"Recent plays of {truncate(self._whose, 100)}", colour=ACCENT)
        if not part:
            embed.description = "No plays are recorded yet."
            return embed
        embed.description = "\n".join(
            f"{_when(p.started_at)} · {_track_line(p.track_name, p.artist_names, p.track_id)}"
            f" · {SOURCE_WORDS[p.source]}"
            for p in part
        )
        if part[0].image_url:
            embed.set_thumbnail(url=part[0].image_url)
        embed.set_footer(text=f"{len(self._plays)} plays shown · sources: Discord, Spotify, import")
        return embed


# --- recording switches ----------------------------------------------------------------------


def record_listening_text(on: bool, changed: bool, presence_intent: bool) -> str:
    state = "**on**" if on else "**off**"
    prefix = "Done: recording of listening is now" if changed else "Recording of listening is"
    if on:
        detail = (
            "Encore records, as plays, the Spotify tracks members of this server show in their "
            "Discord status (track, artists, album, when it started, how long it played; a "
            "track counts after 30 s and half its length or 4 minutes). Members who ran "
            "`/privacy record:False` are never recorded. Plays belong to the member, feed "
            "/nowplaying, /recent and rankings by plays, and each member can delete theirs."
        )
        if not presence_intent:
            detail += (
                "\n⚠️ This bot runs without the presence intent, so it sees no Spotify status "
                "yet: its operator must set `DISCORD_PRESENCE_INTENT=true`."
            )
    else:
        detail = "Encore records nothing from members' Discord status in this server."
    hint = "" if changed else " Use `/settings record_listening:True` (or `False`) to change it."
    return f"{prefix} {state}. {detail}{hint}"


def record_text(record: bool, changed: bool) -> str:
    if record:
        state = (
            "Done: Encore may record your listening again"
            if changed
            else "Encore may record your listening"
        )
        return (
            f"{state}: your Spotify status in servers that switched recording on, and histories "
            "you `/import`. Use `/privacy record:False` to stop."
        )
    state = (
        "Done: Encore no longer records your listening"
        if changed
        else "Encore doesn't record your listening"
    )
    return f"{state}, in any server, from any source. Use `/privacy record:True` to allow it again."


def delete_offer_text(count_hint: str = "") -> str:
    return (
        "Recording is off from now on. Do you also want to **delete every play Encore recorded "
        f"for you** (from Discord, Spotify and imports){count_hint}? This cannot be undone."
    )


def deleted_text(count: int) -> str:
    return f"Deleted {_plural(count, 'recorded play')}. Recording stays off."


class DeletePlaysView(discord.ui.View):
    """An explicit confirmation only the member who asked can press."""

    def __init__(
        self, owner_id: int, delete: Callable[[], Awaitable[int]], *, timeout: float = 300
    ) -> None:
        super().__init__(timeout=timeout)
        self._owner_id = owner_id
        self._delete = delete

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self._owner_id:
            await interaction.response.send_message(
                "Only the member who asked can press this.", ephemeral=True
            )
            return False
        return True

    @discord.ui.button(label="Delete my plays", style=discord.ButtonStyle.danger, emoji="🗑️")
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[DeletePlaysView]
    ) -> None:
        await interaction.response.defer()
        count = await self._delete()
        self.stop()
        await interaction.edit_original_response(content=deleted_text(count), view=None)

    @discord.ui.button(label="Keep them", style=discord.ButtonStyle.secondary)
    async def keep(
        self, interaction: discord.Interaction, button: discord.ui.Button[DeletePlaysView]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Kept your recorded plays. Recording stays off.", view=None
        )
