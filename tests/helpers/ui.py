"""Shared by the UI tests: hostile names, every Discord limit, and no live mention."""

from __future__ import annotations

import re

import discord
from hypothesis import strategies as st

from bot.ui import limits
from bot.ui.embeds import embed_length
from bot.ui.text import text_length

RAW_MENTION = re.compile(r"@everyone|@here|<@[!&]?[0-9]+>|<#[0-9]+>")


def embed_texts(embed: discord.Embed) -> list[str]:
    texts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    texts.append(embed.author.name or "")
    for field in embed.fields:
        texts += [field.name or "", field.value or ""]
    return texts


def assert_within_limits(embed: discord.Embed) -> None:
    assert text_length(embed.title or "") <= limits.EMBED_TITLE
    assert text_length(embed.description or "") <= limits.EMBED_DESCRIPTION
    assert text_length(embed.footer.text or "") <= limits.EMBED_FOOTER
    assert text_length(embed.author.name or "") <= limits.EMBED_AUTHOR_NAME
    assert len(embed.fields) <= limits.EMBED_FIELDS
    for field in embed.fields:
        assert field.name
        assert field.value
        assert text_length(field.name) <= limits.EMBED_FIELD_NAME
        assert text_length(field.value) <= limits.EMBED_FIELD_VALUE
    assert embed_length(embed) <= limits.EMBED_TOTAL
    assert len(embed) <= limits.EMBED_TOTAL


def assert_no_raw_mention(embed: discord.Embed) -> None:
    for text in embed_texts(embed):
        assert RAW_MENTION.search(text) is None, text


TRICKY_PIECES = (
    "@everyone",
    "@here",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "<#123456789012345678>",
    "@" + "1" * 18,
    "**bold**",
    "__under__",
    "~~gone~~",
    "||spoiler||",
    "`code`",
    "```block```",
    "[x](https://evil.example)",
    "]",
    "[",
    ")",
    "\\",
    "\\[",
    "> ",
    "# ",
    "-# ",
    "- ",
    "\n",
    "👍🏽",
    "👨‍👩‍👧",
    "🇫🇷",
    "e\u0301",
    "a\u0300\u0301\u0302\u0303",
    "𝄞",
    "\u200d",
    "\ufe0f",
)

names = st.lists(
    st.one_of(
        st.sampled_from(TRICKY_PIECES),
        st.text(st.characters(codec="utf-8"), max_size=40),
    ),
    max_size=60,
).map("".join)
"""Names as hostile as Spotify or a member can make them: markdown, mentions, emoji, accents,
astral characters, no lone surrogates."""

long_names = st.one_of(names, names.map(lambda name: name * 40))
