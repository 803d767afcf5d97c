"""Which members have a working link, held in memory.

A command checks "is this member linked?" before its first answer to Discord, which has to
come within 3 s and, under load, is what members wait for. Answering that from memory, with
no database round trip, lets the first answer go out at once (see bench/interactions.py).

Only a yes is trusted. A member not in the set is looked up in the database, so a member who
just linked through another process (a web-only one, say) is never refused. A yes can be out
of date when another process unlinked the member or marked the link unusable: the set is
reloaded every `RELOAD_SECONDS`, this process's own changes apply at once, and whatever the
command then reads checks the link again (tokens, stored lists), so a stale yes costs at most
a later refusal, never another member's data.

Memory: one int per linked member (about 100 bytes each in a Python set).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.db.engine import Sessions
from bot.store.links import active_link_ids

log = logging.getLogger(__name__)

RELOAD_SECONDS = 60.0


class LinkedMembers:
    def __init__(self, sessions: Sessions, reload_seconds: float = RELOAD_SECONDS) -> None:
        self._sessions = sessions
        self._reload_seconds = reload_seconds
        self._active: set[int] = set()
        self._changed_while_loading: dict[int, bool] | None = None
        self._stop = asyncio.Event()

    def __contains__(self, discord_user_id: int) -> bool:
        """True when the member's link was active when last seen (see the module's notes)."""
        return discord_user_id in self._active

    def __len__(self) -> int:
        return len(self._active)

    def mark(self, discord_user_id: int, active: bool) -> None:
        """Record a link change this process made or saw in the database."""
        if active:
            self._active.add(discord_user_id)
        else:
            self._active.discard(discord_user_id)
        if self._changed_while_loading is not None:
            self._changed_while_loading[discord_user_id] = active

    async def load(self) -> None:
        """Replace the set with the database's active links; changes marked meanwhile win."""
        self._changed_while_loading = {}
        try:
            async with self._sessions() as session:
                active = await active_link_ids(session)
            for discord_user_id, now_active in self._changed_while_loading.items():
                if now_active:
                    active.add(discord_user_id)
                else:
                    active.discard(discord_user_id)
            self._active = active
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
                log.exception("reloading the linked members failed; keeping the last set")

    def stop(self) -> None:
        self._stop.set()
