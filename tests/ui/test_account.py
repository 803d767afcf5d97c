"""Account texts: the /link reply before and after the first fetch of lists, names that end
a sentence, and the /unlink reply."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest

from bot.domain import LinkStatus
from bot.services.accounts import LinkedAccount
from bot.services.linking import LinkResult, PendingLink
from bot.services.sync import SyncOutcome
from bot.ui.account import (
    LATER_NOTE,
    LOADING_NOTE,
    READY_NOTE,
    SPOTIFY_APPS_URL,
    link_prompt,
    linked_message,
    name_ending_sentence,
    profile_embed,
    relink_for_history_text,
    unlinked_text,
)

PENDING = PendingLink(discord_user_id=1, guild_id=2, application_id=3, interaction_token="t")


def result(name: str = "Yuki") -> LinkResult:
    return LinkResult(PENDING, name, "yuki")


@pytest.mark.parametrize(
    ("first_sync", "note"),
    [(None, LOADING_NOTE), (SyncOutcome.SYNCED, READY_NOTE), (SyncOutcome.DEFERRED, LATER_NOTE)],
)
def test_the_note_follows_the_first_sync(first_sync: SyncOutcome | None, note: str) -> None:
    payload = linked_message(result(), first_sync)
    assert payload["content"] == f"✅ Linked to Spotify as **Yuki**.\n{note}"
    assert payload["components"] == [] and payload["embeds"] == []


def test_the_name_is_escaped() -> None:
    content = str(linked_message(result(name="*Yu*"), None)["content"])
    assert "\\*Yu\\*" in content


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Yuki W.", "**Yuki W.**"),
        ("Yuki", "**Yuki**."),
        ("Wow!", "**Wow!**"),
        ("who?", "**who?**"),
        ("and so on…", "**and so on…**"),
        ("*star*", "**\\*star\\***."),
    ],
)
def test_a_name_closing_a_sentence_gets_one_stop(name: str, shown: str) -> None:
    assert name_ending_sentence(name) == shown


def test_the_link_confirmation_never_doubles_the_period_of_a_name() -> None:
    result = LinkResult(
        pending=PendingLink(1, 2, None, None),
        display_name="Yuki W.",
        spotify_user_id="yuki",
    )
    content = str(linked_message(result, None)["content"])
    assert content.startswith("✅ Linked to Spotify as **Yuki W.**")
    assert ".." not in content.replace("**", "")


def test_the_relink_prompt_never_doubles_the_period_of_a_name() -> None:
    now = datetime.now(UTC)
    account = LinkedAccount(1, "Yuki W.", "yuki", "https://x", None, now, now, LinkStatus.ACTIVE)
    assert ".." not in link_prompt(account).replace("**", "")


@pytest.mark.parametrize("had_link", [True, False])
def test_unlink_tells_how_to_remove_the_access_on_spotify(had_link: bool) -> None:
    text = unlinked_text(had_link)
    assert SPOTIFY_APPS_URL == "https://www.spotify.com/account/apps/"
    assert SPOTIFY_APPS_URL in text and "Manage apps" in text


def test_a_profile_linked_before_listening_history_invites_to_link_again() -> None:
    now = datetime.now(UTC)
    old = LinkedAccount(
        1, "Yuki", "yuki", "https://x", None, now, now, LinkStatus.ACTIVE, listening_history=False
    )
    current = LinkedAccount(1, "Yuki", "yuki", "https://x", None, now, now, LinkStatus.ACTIVE)

    def history_field(embed: discord.Embed, name: str = "Listening history") -> str | None:
        return next((str(f.value) for f in embed.fields if f.name == name), None)

    own = history_field(profile_embed(old))
    other = history_field(profile_embed(old, own=False))
    assert own is not None and "Run `/link` again" in own
    assert other is not None and "`/link` again" in other and "Run" not in other
    assert history_field(profile_embed(current)) is None
    assert "`/link` again" in relink_for_history_text()
