"""Which members hid themselves in which guild (/privacy), held in memory.

Like `LinkedMembers`, this only lets a command answer Discord at once: a member not in the set
is taken as visible for the first response (a deferred "thinking" reply), and the access rule
then reads the stored choice before anything about them is shown. A member in the set goes
the slow way, the database deciding before the first response, so a refusal stays private.
The set is reloaded every `RELOAD_SECONDS` (other processes' choices) and this process's own
changes apply at once; an out-of-date entry costs a slower first response or a thinking reply
replaced by a private refusal, never a hidden member's data.

Memory: one pair of ints per hidden choice (hiding is rare).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.db.engine import Sessions
from bot.store.visibility import hidden_pairs

log = logging.getLogger(__name__)

RELOAD_SECONDS = 60.0


class HiddenMembers:
    def __init__(self, sessions: Sessions, reload_seconds: float = RELOAD_SECONDS) -> None:
        self._sessions = sessions
        self._reload_seconds = reload_seconds
        self._hidden: set[tuple[int, int]] = set()
        self._changed_while_loading: dict[tuple[int, int], bool] | None = None
        self._stop = asyncio.Event()

    def hidden(self, guild_id: int, discord_user_id: int) -> bool:
        return (guild_id, discord_user_id) in self._hidden

    def mark(self, guild_id: int, discord_user_id: int, visible: bool) -> None:
        """A choice this process stored."""
        pair = (guild_id, discord_user_id)
        (self._hidden.discard if visible else self._hidden.add)(pair)
        if self._changed_while_loading is not None:
            self._changed_while_loading[pair] = visible

    async def load(self) -> None:
        """Replace the set with the stored choices; choices marked meanwhile win."""
        self._changed_while_loading = {}
        try:
            async with self._sessions() as session:
                hidden = await hidden_pairs(session)
            for pair, visible in self._changed_while_loading.items():
                (hidden.discard if visible else hidden.add)(pair)
            self._hidden = hidden
        finally:
            self._changed_while_loading = None

    async def keep_current(self) -> None:
        """Reload every `reload_seconds` until `stop()`; a failed reload is logged and retried."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._reload_seconds)
                return
            try:
                await self.load()
            except Exception:
                log.exception("reloading the hidden members failed; keeping the last set")

    def stop(self) -> None:
        self._stop.set()
