from datetime import UTC, datetime

import pytest

from bot.domain import LinkStatus
from bot.services.accounts import LinkedAccount
from bot.services.linking import LinkResult, PendingLink
from bot.ui.account import (
    SPOTIFY_APPS_URL,
    link_prompt,
    linked_message,
    name_ending_sentence,
    unlinked_text,
)


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
    content = str(linked_message(result)["content"])
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
