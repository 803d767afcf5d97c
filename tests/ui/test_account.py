"""The /link reply once the callback succeeded, before and after the first fetch of lists."""

from __future__ import annotations

import pytest

from bot.services.linking import LinkResult, PendingLink
from bot.services.sync import SyncOutcome
from bot.ui.account import LATER_NOTE, LOADING_NOTE, READY_NOTE, linked_message

PENDING = PendingLink(discord_user_id=1, guild_id=2, application_id=3, interaction_token="t")


def result(moved_from: int | None = None, name: str = "Yuki") -> LinkResult:
    return LinkResult(PENDING, name, "yuki", moved_from)


@pytest.mark.parametrize(
    ("first_sync", "note"),
    [(None, LOADING_NOTE), (SyncOutcome.SYNCED, READY_NOTE), (SyncOutcome.DEFERRED, LATER_NOTE)],
)
def test_the_note_follows_the_first_sync(first_sync: SyncOutcome | None, note: str) -> None:
    payload = linked_message(result(), first_sync)
    assert payload["content"] == f"✅ Linked to Spotify as **Yuki**.\n{note}"
    assert payload["components"] == [] and payload["embeds"] == []


def test_a_moved_account_is_said_and_the_name_escaped() -> None:
    content = str(linked_message(result(moved_from=9, name="*Yu*"), None)["content"])
    assert "\\*Yu\\*" in content
    assert "moved to you" in content
