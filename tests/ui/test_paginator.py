import asyncio
import logging
from typing import Any
from unittest.mock import MagicMock, create_autospec

import discord
import pytest

from bot.spotify.errors import RateLimited
from bot.ui.paginator import Paginator
from bot.ui.replies import GENERIC
from bot.ui.text import NO_MENTIONS

OWNER = 1001
OTHER = 2002


class FakeSource:
    """Pages "page 0".."page N-1", recording every fetch; can fail or block on chosen pages."""

    def __init__(self, pages: int, *, errors: dict[int, Exception] | None = None) -> None:
        self.page_count = pages
        self.calls: list[int] = []
        self.errors = errors or {}
        self.gate: asyncio.Event | None = None

    async def page(self, index: int) -> discord.Embed:
        self.calls.append(index)
        if self.gate is not None:
            await self.gate.wait()
        if index in self.errors:
            raise self.errors[index]
        return discord.Embed(title=f"page {index}")


def make_interaction(user_id: int, *, deferred: bool = False) -> Any:
    """A spec'd Interaction whose response remembers whether it was answered."""
    interaction = create_autospec(discord.Interaction, instance=True)
    response = create_autospec(discord.InteractionResponse, instance=True)
    done = {"value": deferred}
    response.is_done.side_effect = lambda: done["value"]

    def answered(*args: object, **kwargs: object) -> None:
        done["value"] = True

    for method in (response.send_message, response.edit_message, response.defer):
        method.side_effect = answered
    response.type = None
    interaction.response = response
    interaction.followup = create_autospec(discord.Webhook, instance=True)
    interaction.followup.send.return_value = create_autospec(discord.WebhookMessage, instance=True)
    interaction.user = create_autospec(discord.Member, instance=True)
    interaction.user.id = user_id
    interaction.user.mention = f"<@{user_id}>"
    interaction.guild_id = 42
    interaction.extras = {}
    return interaction


def shown_title(interaction: Any) -> str | None:
    """Title of the page the interaction put on screen, whichever way it answered."""
    for method in (
        interaction.response.edit_message,
        interaction.edit_original_response,
        interaction.response.send_message,
    ):
        if method.await_count:
            title: str | None = method.await_args.kwargs["embed"].title
            return title
    return None


def states(view: Paginator) -> tuple[bool, bool, str | None, bool, bool]:
    return (
        view.first_page.disabled,
        view.previous_page.disabled,
        view.position.label,
        view.next_page.disabled,
        view.last_page.disabled,
    )


async def press(view: Paginator, button: discord.ui.Button[Paginator], interaction: Any) -> None:
    """Dispatch a press the way discord.py does: checks, callback, error handler."""
    await view._scheduled_task(button, interaction)


async def started(pages: int, **source_kwargs: Any) -> tuple[Paginator, FakeSource, Any]:
    source = FakeSource(pages, **source_kwargs)
    view = Paginator(source)
    command = make_interaction(OWNER)
    await view.start(command, ephemeral=False)
    return view, source, command


async def test_start_sends_the_first_page_with_buttons() -> None:
    view, source, command = await started(3)
    command.response.send_message.assert_awaited_once()
    kwargs = command.response.send_message.await_args.kwargs
    assert kwargs["embed"].title == "page 0"
    assert kwargs["view"] is view
    assert kwargs["ephemeral"] is False
    assert kwargs["allowed_mentions"] is NO_MENTIONS
    assert states(view) == (True, True, "1/3", False, False)
    assert source.calls == [0]


async def test_start_after_defer_uses_a_followup() -> None:
    view = Paginator(FakeSource(2))
    command = make_interaction(OWNER, deferred=True)
    await view.start(command, ephemeral=True)
    command.response.send_message.assert_not_awaited()
    kwargs = command.followup.send.await_args.kwargs
    assert kwargs["embed"].title == "page 0"
    assert kwargs["view"] is view
    assert kwargs["ephemeral"] is True
    assert kwargs["wait"] is True


async def test_a_single_page_has_no_buttons() -> None:
    view, _, command = await started(1)
    assert command.response.send_message.await_args.kwargs["view"] is discord.utils.MISSING
    assert view.is_finished()


async def test_only_the_invoker_can_turn_pages() -> None:
    view, source, _ = await started(3)
    stranger = make_interaction(OTHER)
    await press(view, view.next_page, stranger)
    stranger.response.send_message.assert_awaited_once()
    args, kwargs = stranger.response.send_message.await_args
    assert args == (f"Only <@{OWNER}> can turn these pages.",)
    assert kwargs["ephemeral"] is True
    assert source.calls == [0]
    assert view.index == 0


async def test_pages_are_fetched_lazily_once_each() -> None:
    view, source, _ = await started(3)

    first_visit = make_interaction(OWNER)
    await press(view, view.next_page, first_visit)
    first_visit.response.defer.assert_awaited_once()
    assert shown_title(first_visit) == "page 1"
    assert source.calls == [0, 1]

    back = make_interaction(OWNER)
    await press(view, view.previous_page, back)
    back.response.defer.assert_not_awaited()
    assert shown_title(back) == "page 0"

    again = make_interaction(OWNER)
    await press(view, view.next_page, again)
    assert shown_title(again) == "page 1"
    assert source.calls == [0, 1]


async def test_bounds_disable_buttons_and_clamp() -> None:
    view, source, _ = await started(4)

    await press(view, view.last_page, make_interaction(OWNER))
    assert view.index == 3
    assert states(view) == (False, False, "4/4", True, True)

    beyond = make_interaction(OWNER)
    await press(view, view.next_page, beyond)
    assert view.index == 3
    assert shown_title(beyond) == "page 3"

    await press(view, view.previous_page, make_interaction(OWNER))
    assert states(view) == (False, False, "3/4", False, False)

    await press(view, view.first_page, make_interaction(OWNER))
    assert view.index == 0
    assert states(view) == (True, True, "1/4", False, False)
    assert source.calls == [0, 3, 2]


async def test_concurrent_presses_fetch_a_page_once_and_apply_in_order() -> None:
    view, source, _ = await started(5)
    source.gate = asyncio.Event()
    presses = [
        asyncio.create_task(press(view, view.next_page, make_interaction(OWNER))) for _ in range(3)
    ]
    await asyncio.sleep(0)
    source.gate.set()
    await asyncio.gather(*presses)
    assert view.index == 3
    assert source.calls == [0, 1, 2, 3]


async def test_timeout_disables_every_button_on_the_message() -> None:
    view, _, command = await started(3)
    await view.on_timeout()
    assert all(item.disabled for item in view.children if isinstance(item, discord.ui.Button))
    command.edit_original_response.assert_awaited_once_with(view=view)


async def test_timeout_edits_through_the_latest_interaction() -> None:
    view = Paginator(FakeSource(3))
    command = make_interaction(OWNER, deferred=True)
    await view.start(command, ephemeral=True)
    await view.on_timeout()
    message = command.followup.send.return_value
    command.followup.edit_message.assert_awaited_once_with(message.id, view=view)
    message.edit.assert_not_awaited()  # the message itself is not kept

    view = Paginator(FakeSource(3))
    await view.start(make_interaction(OWNER), ephemeral=True)
    turn = make_interaction(OWNER)
    await press(view, view.next_page, turn)
    await view.on_timeout()
    turn.edit_original_response.assert_awaited_with(view=view)


async def test_timeout_survives_an_expired_message() -> None:
    view, _, command = await started(2)
    command.edit_original_response.side_effect = discord.NotFound(MagicMock(status=404), "gone")
    await view.on_timeout()
    assert view.first_page.disabled


async def test_a_failing_page_is_answered_privately(caplog: pytest.LogCaptureFixture) -> None:
    view, _, _ = await started(3, errors={1: RateLimited(30)})
    turn = make_interaction(OWNER)
    with caplog.at_level(logging.WARNING, logger="bot.ui.paginator"):
        await press(view, view.next_page, turn)
    args, kwargs = turn.followup.send.await_args
    assert args == ("Spotify asked us to slow down. Try again in 30 s.",)
    assert kwargs["ephemeral"] is True
    assert view.index == 0
    assert states(view)[2] == "1/3"
    assert "RateLimited" in caplog.text
    assert f"member={OWNER}" in caplog.text


async def test_an_unexpected_error_is_logged_and_answered_generically(
    caplog: pytest.LogCaptureFixture,
) -> None:
    view, source, _ = await started(3, errors={2: RuntimeError("boom")})
    turn = make_interaction(OWNER)
    with caplog.at_level(logging.ERROR, logger="bot.ui.paginator"):
        await press(view, view.last_page, turn)
    assert turn.followup.send.await_args.args == (GENERIC,)
    [record] = [r for r in caplog.records if r.name == "bot.ui.paginator"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert "page=1/3" in record.getMessage()

    retry = make_interaction(OWNER)
    source.errors.clear()
    await press(view, view.last_page, retry)
    assert shown_title(retry) == "page 2"
