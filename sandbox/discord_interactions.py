"""Interactions the stand-in sends to the bot, and what the bot answered to each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sandbox.discord_models import Json, StandInMessage, StandInUser

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4

CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

T = TypeVar("T")

ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    APPLICATION_COMMAND: frozenset({CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL}),
    MESSAGE_COMPONENT: frozenset(
        {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL}
    ),
    AUTOCOMPLETE: frozenset({AUTOCOMPLETE_RESULT}),
}


class Changes:
    """Wakes every waiter whenever the stand-in's state changes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(
        self,
        check: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        what: str,
    ) -> T:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = check()
                    if result is not None:
                        return result
                    await self._event.wait()
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}") from None


@dataclass(frozen=True)
class InteractionResponse:
    """The first callback the bot sent: its type, `data`, and when it arrived (monotonic, as
    `StandInInteraction.created_at`)."""

    type: int
    data: Json | None
    at: float = field(default_factory=time.monotonic)


class StandInInteraction:
    """One interaction sent to the bot, and everything the bot sent back for it."""

    def __init__(
        self,
        *,
        id: int,
        token: str,
        type: int,
        name: str,
        user: StandInUser,
        guild_id: int | None,
        channel_id: int,
        changes: Changes,
        source: StandInMessage | None = None,
    ) -> None:
        self.id = id
        self.token = token
        self.type = type
        self.name = name
        self.user = user
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.source = source
        self.created_at = time.monotonic()
        self.sent_at: float | None = None
        """When the INTERACTION_CREATE frame was written to the bot's websocket."""
        self.response: InteractionResponse | None = None
        self.original: StandInMessage | None = None
        self.followups: list[StandInMessage] = []
        self.choices: list[Json] | None = None
        self._changes = changes
        self._source_revisions = len(source.revisions) if source else 0

    def mark_sent(self) -> None:
        self.sent_at = time.monotonic()

    def __repr__(self) -> str:
        return f"<StandInInteraction id={self.id} type={self.type} name={self.name!r}>"

    @property
    def deferred(self) -> bool:
        return self.response is not None and self.response.type in (
            DEFERRED_CHANNEL_MESSAGE,
            DEFERRED_UPDATE_MESSAGE,
        )

    @property
    def ephemeral(self) -> bool:
        """Whether the response (or, for a component, the clicked message) is ephemeral."""
        return self.original is not None and self.original.ephemeral

    @property
    def messages(self) -> list[StandInMessage]:
        """The original response (for components: possibly the clicked message) and followups."""
        found = [self.original] if self.original is not None else []
        found += [m for m in self.followups if m is not self.original]
        return found

    async def wait_response(self, timeout: float = 5) -> InteractionResponse:  # noqa: ASYNC109
        return await self._changes.wait_for(
            lambda: self.response, timeout, f"the bot to answer interaction {self.name!r}"
        )

    async def wait_message(
        self,
        predicate: Callable[[StandInMessage], bool] | None = None,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> StandInMessage:
        """The first message of `.messages` that satisfies `predicate`, waiting for edits.

        Without a predicate: the first message that holds the bot's answer, i.e. is not a
        deferred "thinking" placeholder and, when it is the clicked message, was updated since.
        """
        check = predicate or self._answered

        def find() -> StandInMessage | None:
            return next((m for m in self.messages if not m.deleted and check(m)), None)

        return await self._changes.wait_for(
            find, timeout, f"a message answering {self.name!r} that satisfies the predicate"
        )

    def _answered(self, message: StandInMessage) -> bool:
        if message is self.source:
            return len(message.revisions) > self._source_revisions
        return not message.loading

    def callback_response(self, callback_type: int) -> Json:
        """The body of a callback answered `with_response`."""
        message = self.original if callback_type != AUTOCOMPLETE_RESULT else None
        interaction: Json = {"id": str(self.id), "type": self.type}
        if message is not None and callback_type in (
            CHANNEL_MESSAGE,
            DEFERRED_CHANNEL_MESSAGE,
            UPDATE_MESSAGE,
        ):
            interaction["response_message_id"] = str(message.id)
            interaction["response_message_loading"] = message.loading
            interaction["response_message_ephemeral"] = message.ephemeral
        resource: Json = {"type": callback_type}
        if message is not None and callback_type in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            resource["message"] = message.payload()
        return {"interaction": interaction, "resource": resource}
