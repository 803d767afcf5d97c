"""A set of keys read from the database and held in memory, for answers that cannot wait.

The set is reloaded every `reload_seconds` (other processes' changes) and this process's own
changes apply at once; a change marked while a reload reads the database wins over what it read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from bot.db.engine import Session, Sessions

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

RELOAD_SECONDS = 60.0


class MirroredSet(Generic[K]):
    def __init__(
        self,
        sessions: Sessions,
        read: Callable[[Session], Awaitable[set[K]]],
        what: str,
        reload_seconds: float = RELOAD_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._read = read
        self._what = what
        self._reload_seconds = reload_seconds
        self._keys: set[K] = set()
        self._changed_while_loading: dict[K, bool] | None = None
        self._stop = asyncio.Event()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def _mark(self, key: K, present: bool) -> None:
        (self._keys.add if present else self._keys.discard)(key)
        if self._changed_while_loading is not None:
            self._changed_while_loading[key] = present

    async def load(self) -> None:
        """Replace the set with the stored keys; changes marked meanwhile win."""
        self._changed_while_loading = {}
        try:
            async with self._sessions() as session:
                keys = await self._read(session)
            for key, present in self._changed_while_loading.items():
                (keys.add if present else keys.discard)(key)
            self._keys = keys
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
                log.exception("reloading the %s failed; keeping the last set", self._what)

    def stop(self) -> None:
        self._stop.set()
