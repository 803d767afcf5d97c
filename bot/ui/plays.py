"""Rendering of rankings by plays, and the basis line every ranking reply carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import discord
from discord import app_commands

from bot.domain import ItemKind, Period
from bot.services.play_rankings import Basis, PlayWhoKnows
from bot.spotify.ids import SpotifyKind, SpotifyRef
from bot.store.play_rankings import PlayBoard, PlayCompat
from bot.store.plays import PlayedItem
from bot.ui.choices import autocomplete_choices
from bot.ui.items import ACCENT, ItemLine
from bot.ui.sources import ItemPageSource
from bot.ui.taste import taste_embed, taste_parts
from bot.ui.text import echo, escape, masked_link, truncate

PlayBoardPage = Callable[[int, int], Awaitable[PlayBoard]]

KIND_PLURAL = {ItemKind.ARTIST: "artists", ItemKind.TRACK: "tracks", ItemKind.ALBUM: "albums"}
KIND_SINGULAR = {ItemKind.ARTIST: "artist", ItemKind.TRACK: "track", ItemKind.ALBUM: "album"}
SPOTIFY_KINDS = {
    ItemKind.ARTIST: SpotifyKind.ARTIST,
    ItemKind.TRACK: SpotifyKind.TRACK,
    ItemKind.ALBUM: SpotifyKind.ALBUM,
}


def basis_words(basis: Basis) -> str:
    """ "by plays · last 30 days" or "by Spotify top lists · last 6 months"."""
    if isinstance(basis, Period):
        return f"by plays · {basis.words}"
    return f"by Spotify top lists · {basis.words}"


def plays_text(count: int) -> str:
    return "1 play" if count == 1 else f"{count} plays"


def item_url(item: PlayedItem) -> str | None:
    if item.spotify_id is None:
        return None
    return SpotifyRef(SPOTIFY_KINDS[item.kind], item.spotify_id).url


def played_line(item: PlayedItem, detail: str) -> ItemLine:
    return ItemLine(item.name, item_url(item), item.subtitle, item.image_url, detail)


def play_board_source(first: PlayBoard, fetch: PlayBoardPage, guild_name: str) -> ItemPageSource:
    async def lines(offset: int, limit: int) -> Sequence[ItemLine]:
        board = first if offset == first.offset else await fetch(offset, limit)
        return [
            played_line(
                entry.item,
                f"{plays_text(entry.plays)} · "
                + ("1 listener" if entry.listeners == 1 else f"{entry.listeners} listeners"),
            )
            for entry in board.entries[:limit]
        ]

    members = "1 member" if first.members == 1 else f"{first.members} members"
    title = f"Top {KIND_PLURAL[first.kind]} in {guild_name} · {basis_words(first.period)}"
    return ItemPageSource(title, total=first.total_items, fetch=lines, footer=members)


def member_top_source(
    kind: ItemKind, rows: list[tuple[PlayedItem, int]], owner_name: str, period: Period
) -> ItemPageSource:
    owner = f"{owner_name}'" if owner_name.endswith("s") else f"{owner_name}'s"
    title = f"{owner} top {KIND_PLURAL[kind]} · {basis_words(period)}"
    footer = f"{len(rows)} {KIND_PLURAL[kind]}" if rows else f"No plays {period.words}"
    return ItemPageSource.from_lines(
        title, [played_line(item, plays_text(count)) for item, count in rows], footer=footer
    )


def _member(guild: discord.Guild | None, user_id: int) -> str:
    member = guild.get_member(user_id) if guild else None
    return escape(member.display_name) if member else f"<@{user_id}>"


def play_who_knows_embed(result: PlayWhoKnows, guild: discord.Guild | None) -> discord.Embed:
    """Listeners by plays; the artist's crown holder marked 👑 (named below the list when the
    period leaves them out)."""
    holder = result.crown.discord_user_id if result.crown else None
    rows = [
        f"{i}. {_member(guild, listener.discord_user_id)} — {plays_text(listener.plays)}"
        + (" 👑" if listener.discord_user_id == holder else "")
        for i, listener in enumerate(result.listeners, start=1)
    ]
    if result.crown and holder not in {listener.discord_user_id for listener in result.listeners}:
        rows.append(
            f"👑 {_member(guild, result.crown.discord_user_id)} holds the crown "
            f"({plays_text(result.crown.plays)} all time)"
        )
    if result.top_list_only:
        rows.append(f"**In top lists only** ({result.top_list_range.words})")
        rows.extend(
            f"• {_member(guild, listener.discord_user_id)} — #{listener.rank} in top lists"
            for listener in result.top_list_only
        )
    item = result.item
    embed = discord.Embed(
        title=truncate(f"Who knows {item.name}?", 256),
        url=item_url(item),
        description=truncate("\n".join(rows) or "Nobody here played it yet.", 4096),
        colour=ACCENT,
    )
    if item.image_url:
        embed.set_thumbnail(url=item.image_url)
    count = len(result.listeners)
    listeners = "1 member" if count == 1 else f"{count} members"
    embed.set_footer(text=f"{listeners} · {basis_words(result.period)}")
    return embed


def nobody_played(kind: ItemKind, text: str) -> str:
    return f"Nobody visible here has played the {KIND_SINGULAR[kind]} **{echo(text)}** yet."


def play_compat_embed(
    result: PlayCompat | None, name_a: str, name_b: str, period: Period
) -> discord.Embed:
    if result is None:
        parts = [f"Neither of you has plays {period.words} yet."]
    else:
        shared = [
            f"{i}. {masked_link(f.item.name, item_url(f.item), 100)} — "
            f"{plays_text(f.plays_a)} / {plays_text(f.plays_b)}"
            for i, f in enumerate(result.shared, start=1)
        ]
        parts = taste_parts(
            result.score, result.artists, result.tracks, shared, result.shared_total
        )
    return taste_embed(parts, name_a, name_b, basis_words(period))


def played_choices(items: Sequence[PlayedItem]) -> list[app_commands.Choice[str]]:
    """Autocomplete choices: "Name — byline" -> the item's URI, or its name when it is known
    only by name."""
    return autocomplete_choices(
        (
            f"{item.name} — {item.subtitle}" if item.subtitle else item.name,
            SpotifyRef(SPOTIFY_KINDS[item.kind], item.spotify_id).uri
            if item.spotify_id
            else item.name,
        )
        for item in items
    )
