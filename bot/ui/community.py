"""Rendering for the community commands: leaderboards, who-knows, compatibility, picks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import discord

from bot.domain import ItemKind, TimeRange
from bot.process.logs import bind_context
from bot.services.items import ItemSummary
from bot.spotify.ids import SpotifyKind
from bot.store.compat import Compat
from bot.store.leaderboard import Leaderboard
from bot.store.recommend import Recommendation
from bot.store.whoknows import WhoKnows
from bot.ui.embeds import fit_embed
from bot.ui.items import ACCENT, ItemLine, item_embed
from bot.ui.library import line_for
from bot.ui.plays import basis_words
from bot.ui.replies import send_private
from bot.ui.sources import ItemPageSource
from bot.ui.taste import taste_embed, taste_parts
from bot.ui.text import NO_MENTIONS, echo, escape, masked_link, truncate

LeaderboardPage = Callable[[int, int], Awaitable[Leaderboard]]


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def freshness(oldest: datetime | None, newest: datetime | None) -> str:
    if oldest is None:
        return "no data yet"
    if newest is None or newest == oldest:
        return f"data from {_day(oldest)}"
    return f"data from {_day(oldest)} to {_day(newest)}"


def _points(score: float) -> str:
    return f"{score:.1f} pts"


def leaderboard_source(
    first: Leaderboard, fetch: LeaderboardPage, guild_name: str
) -> ItemPageSource:
    what = "artists" if first.kind is ItemKind.ARTIST else "tracks"

    async def lines(offset: int, limit: int) -> Sequence[ItemLine]:
        board = first if offset == first.offset else await fetch(offset, limit)
        result = []
        for entry in board.entries[:limit]:
            listeners = "1 listener" if entry.listeners == 1 else f"{entry.listeners} listeners"
            line = line_for(entry.item)
            result.append(
                ItemLine(
                    line.name,
                    line.url,
                    line.subtitle,
                    line.image_url,
                    f"{_points(entry.score)} · {listeners}",
                )
            )
        return result

    members = "1 member" if first.members == 1 else f"{first.members} members"
    title = f"Top {what} in {guild_name} · {basis_words(first.time_range)}"
    footer = f"{members} · {freshness(first.oldest, first.newest)}"
    return ItemPageSource(title, total=first.total_items, fetch=lines, footer=footer)


def member_name(guild: discord.Guild | None, user_id: int) -> str:
    member = guild.get_member(user_id) if guild else None
    return escape(member.display_name) if member else f"<@{user_id}>"


def who_knows_embed(result: WhoKnows, guild: discord.Guild | None) -> discord.Embed:
    rows = [
        f"{result.offset + i}. {member_name(guild, listener.discord_user_id)} — #{listener.rank}"
        for i, listener in enumerate(result.listeners, start=1)
    ]
    more = result.total - result.offset - len(result.listeners)
    if more > 0:
        rows.append(f"…and {more} more")
    embed = discord.Embed(
        title=truncate(f"Who knows {result.artist.name}?", 256),
        url=result.artist.url,
        description="\n".join(rows) or "Nobody here yet.",
        colour=ACCENT,
    )
    if result.artist.image_url:
        embed.set_thumbnail(url=result.artist.image_url)
    listeners = "1 member" if result.total == 1 else f"{result.total} members"
    what = "top tracks" if result.artist.kind is SpotifyKind.TRACK else "top artists"
    embed.set_footer(text=f"{listeners} · {what} {basis_words(result.time_range)}")
    return embed


def nobody_knows(artist: str, time_range: TimeRange, what: str = "artists") -> str:
    return (
        f"Nobody visible here has **{echo(artist)}** in their top {what} "
        f"({basis_words(time_range)}) yet."
    )


def compat_embed(result: Compat, name_a: str, name_b: str, time_range: TimeRange) -> discord.Embed:
    shared = [
        f"{i}. [{escape(f.item.name)}]({f.item.url}) — #{f.rank_a} / #{f.rank_b}"
        for i, f in enumerate(result.shared, start=1)
    ]
    parts = taste_parts(result.score, result.artists, result.tracks, shared, result.shared_total)
    return taste_embed(parts, name_a, name_b, basis_words(time_range))


def recommendations_embed(picks: list[Recommendation], name: str) -> discord.Embed:
    if not picks:
        return discord.Embed(
            title=truncate(f"Picks for {name}", 256),
            description="Not enough listening in this server yet: picks appear once a few "
            "members with similar taste have linked.",
            colour=ACCENT,
        )
    rows = []
    for rank, pick in enumerate(picks, start=1):
        byline = f" — {escape(pick.item.subtitle)}" if pick.item.subtitle else ""
        link = masked_link(pick.item.name, pick.item.url, 100)
        rows.append(f"{rank}. {link}{byline}\n　↳ {escape(pick.reason)}")
    embed = discord.Embed(
        title=truncate(f"Picks for {name}, from this server's listening", 256),
        description="\n".join(rows),
        colour=ACCENT,
    )
    thumbnail = next((p.item.image_url for p in picks if p.item.image_url), None)
    if thumbnail:
        embed.set_thumbnail(url=thumbnail)
    embed.set_footer(text="Based on members here with the most similar taste")
    return fit_embed(embed)


def playlist_embed(item: ItemSummary, tracks: int, guild_name: str) -> discord.Embed:
    return item_embed(
        line_for(item),
        heading=f"Created in your Spotify: {tracks} favourites of {guild_name}",
    )


class PostPicks(discord.ui.View):
    """Lets the member who asked for picks post them to the server's share channel."""

    def __init__(self, owner_id: int, channel: discord.abc.Messageable, embed: discord.Embed):
        super().__init__(timeout=300)
        self.owner_id, self.channel, self.embed = owner_id, channel, embed

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        bind_context(interaction.guild_id, interaction.user.id, "post picks")
        if interaction.user.id != self.owner_id:
            await send_private(interaction, "Only the member who asked can post these picks.")
            return False
        return True

    @discord.ui.button(label="Post to the share channel", style=discord.ButtonStyle.primary)
    async def post(
        self, interaction: discord.Interaction, button: discord.ui.Button[PostPicks]
    ) -> None:
        await self.channel.send(embed=self.embed, allowed_mentions=NO_MENTIONS)
        button.disabled = True
        await interaction.response.edit_message(view=self)
        self.stop()
