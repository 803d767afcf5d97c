"""The shared-item post: its embed, and the Save / Follow button that survives restarts."""

from __future__ import annotations

import re

import discord

from bot.services.items import ItemSummary
from bot.spotify.ids import FOLLOW_KINDS, SpotifyKind, SpotifyRef
from bot.ui.items import item_embed
from bot.ui.library import KIND_WORDS, line_for

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
