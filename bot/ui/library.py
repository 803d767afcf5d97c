"""Rendering for the personal library commands: top lists, saved items, save/follow replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import discord
from discord import app_commands

from bot.domain import ItemKind, TimeRange
from bot.services.items import ItemSummary
from bot.services.library import LibraryChange, LibraryPage
from bot.services.top import TopList
from bot.spotify.ids import FOLLOW_KINDS, SpotifyKind
from bot.ui.choices import autocomplete_choices
from bot.ui.items import ItemLine, item_embed
from bot.ui.plays import basis_words
from bot.ui.sources import ItemPageSource

SAVED_TITLES = {
    "tracks": "saved tracks",
    "albums": "saved albums",
    "shows": "podcasts",
    "episodes": "saved episodes",
    "audiobooks": "audiobooks",
    "playlists": "playlists",
}

KIND_WORDS = {
    SpotifyKind.TRACK: "track",
    SpotifyKind.ALBUM: "album",
    SpotifyKind.ARTIST: "artist",
    SpotifyKind.PLAYLIST: "playlist",
    SpotifyKind.USER: "user",
    SpotifyKind.SHOW: "podcast",
    SpotifyKind.EPISODE: "episode",
    SpotifyKind.AUDIOBOOK: "audiobook",
}


def line_for(item: ItemSummary) -> ItemLine:
    return ItemLine(item.name, item.url, item.subtitle, item.image_url, item.detail)


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def top_source(
    kind: ItemKind, top: TopList, owner_name: str, time_range: TimeRange
) -> ItemPageSource:
    what = {ItemKind.ARTIST: "artists", ItemKind.TRACK: "tracks", ItemKind.ALBUM: "albums"}[kind]
    title = f"{possessive(owner_name)} top {what} · {basis_words(time_range)}"
    when = top.fetched_at.strftime("%Y-%m-%d %H:%M UTC")
    footer = f"{len(top.items)} {what} · data from {when}"
    note = stale_note(top.fetched_at) if top.spotify_failed else None
    return ItemPageSource.from_lines(
        title, [line_for(i) for i in top.items], footer=footer, note=note
    )


def stale_note(fetched_at: datetime) -> str:
    """Says a stored list is shown because Spotify failed; the age renders in the reader's
    clock ("3 hours ago")."""
    return f"As of {discord.utils.format_dt(fetched_at, 'R')} — Spotify did not answer."


def saved_source(
    what: str,
    first: LibraryPage,
    fetch: Callable[[int, int], Awaitable[LibraryPage]],
    owner_name: str,
) -> ItemPageSource:
    """Pages fetched from Spotify when shown; the first one is already at hand."""

    async def lines(offset: int, limit: int) -> Sequence[ItemLine]:
        page = first if offset == first.offset else await fetch(offset, limit)
        return [line_for(i) for i in page.items[:limit]]

    title = f"{possessive(owner_name)} {SAVED_TITLES[what]}"
    return ItemPageSource(title, total=first.total, fetch=lines, footer=f"{first.total} in all")


def following_source(artists: list[ItemSummary], owner_name: str) -> ItemPageSource:
    title = f"Artists {owner_name} follows"
    return ItemPageSource.from_lines(
        title, [line_for(a) for a in artists], numbered=False, footer=f"{len(artists)} artists"
    )


def item_choices(found: list[ItemSummary]) -> list[app_commands.Choice[str]]:
    """Autocomplete choices for search results: "Name — byline (kind)" -> the item's URI."""
    return autocomplete_choices(
        (
            f"{f'{i.name} — {i.subtitle}' if i.subtitle else i.name} ({KIND_WORDS[i.kind]})",
            i.uri,
        )
        for i in found
    )


def change_embed(change: LibraryChange, *, add: bool) -> discord.Embed:
    kind = change.item.kind
    word = KIND_WORDS[kind]
    if kind in FOLLOW_KINDS:
        heading = (
            ("Now following this " if add else "Unfollowed this ")
            if change.changed
            else ("You already follow this " if add else "You weren't following this ")
        ) + word
    else:
        heading = (
            (
                f"Saved this {word} to your library"
                if add
                else f"Removed this {word} from your library"
            )
            if change.changed
            else (
                f"This {word} is already in your library"
                if add
                else f"This {word} wasn't in your library"
            )
        )
    return item_embed(line_for(change.item), heading=heading)
