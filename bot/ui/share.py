"""The shared-item post: its embed, and the Save / Follow button that survives restarts."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.services.items import ItemSummary
from bot.spotify.ids import FOLLOW_KINDS, SpotifyKind, SpotifyRef
from bot.ui.items import item_embed
from bot.ui.library import KIND_WORDS, line_for

log = logging.getLogger(__name__)

SHARE_PRESSED = "share_pressed"
"""The event a press of a share's button dispatches: `on_share_pressed(interaction, share_id,
ref)`, handled by the /share cog."""
SHARE_BUTTON = re.compile(r"encore:share:(?P<share_id>\d+):(?P<kind>[a-z]+):(?P<id>[0-9A-Za-z]+)")


def share_button_id(share_id: int, ref: SpotifyRef) -> str:
    return f"encore:share:{share_id}:{ref.kind}:{ref.id}"


def saves_footer(kind: SpotifyKind, count: int) -> str:
    verb = "followed" if kind in FOLLOW_KINDS else "saved"
    if count == 0:
        return f"Press the button to get this {KIND_WORDS[kind]} in your own Spotify."
    members = "member" if count == 1 else "members"
    return f"{verb.capitalize()} from here by {count} {members}"


def share_embed(item: ItemSummary, *, sharer: str, note: str | None, saves: int) -> discord.Embed:
    return item_embed(
        line_for(item),
        heading=f"{sharer} shared a {KIND_WORDS[item.kind]}",
        note=note,
        footer=saves_footer(item.kind, saves),
        large_art=True,
    )


def button_label(kind: SpotifyKind) -> tuple[str, str]:
    if kind in FOLLOW_KINDS:
        return "Follow", "➕"
    return "Save to my Spotify", "💚"


def open_button(ref: SpotifyRef) -> discord.ui.Button[discord.ui.View]:
    return discord.ui.Button(style=discord.ButtonStyle.link, url=ref.url, label="Open in Spotify")


class ShareButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=SHARE_BUTTON.pattern):
    """Save / Follow under a shared item; a press is dispatched as `SHARE_PRESSED`.

    The custom id carries the share id and the item, so the button keeps working after a
    restart, and even if the share's row is gone.
    """

    def __init__(self, share_id: int, ref: SpotifyRef) -> None:
        label, emoji = button_label(ref.kind)
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.success,
                label=label,
                emoji=emoji,
                custom_id=share_button_id(share_id, ref),
            )
        )
        self.share_id = share_id
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ShareButton:
        ref = SpotifyRef(SpotifyKind(match["kind"]), match["id"])
        return cls(int(match["share_id"]), ref)

    async def callback(self, interaction: discord.Interaction) -> None:
        interaction.client.dispatch(SHARE_PRESSED, interaction, self.share_id, self.ref)


def share_view(share_id: int, ref: SpotifyRef) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ShareButton(share_id, ref))
    view.add_item(open_button(ref))
    return view


async def show_save_count(message: discord.Message, kind: SpotifyKind, count: int) -> None:
    """Put the new save count in the share's footer; a message that cannot be edited keeps the
    old one."""
    if not message.embeds:
        return
    embed = message.embeds[0]
    embed.set_footer(text=saves_footer(kind, count))
    try:
        await message.edit(embed=embed)
    except discord.HTTPException:
        log.info("could not update the save count of message %s", message.id)
