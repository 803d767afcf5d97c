"""Guild membership and visibility: recorded as members use the bot, join and leave."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime

from bot.db.engine import Sessions, session_scope
from bot.services.hidden_members import HiddenMembers
from bot.store import visibility
from bot.store.links import linked_among
from bot.store.memberships import (
    record_members,
    recorded_among,
    remove_guild,
    remove_membership,
)
from bot.store.play_rankings import with_plays_among
from bot.store.scores import sync_members

log = logging.getLogger(__name__)

SEEN_LIMIT = 200_000
RECORD_CHUNK = 500


class MembershipService:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self.hidden = HiddenMembers(sessions)
        self._seen: set[tuple[int, int]] = set()
        self._pending: defaultdict[int, set[int]] = defaultdict(set)
        self._flusher: asyncio.Task[None] | None = None

    def note_seen(self, guild_id: int, discord_user_id: int) -> None:
        """Record a member who used the bot here, without making their command wait.

        New (guild, member) pairs are written in batches by one background task, so a burst
        of commands costs a few writes instead of one locked write before every answer.
        """
        key = (guild_id, discord_user_id)
        if key in self._seen:
            return
        if len(self._seen) >= SEEN_LIMIT:
            self._seen.clear()
        self._seen.add(key)
        self._pending[guild_id].add(discord_user_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending:
            guild_id, users = self._pending.popitem()
            try:
                await self.record(guild_id, sorted(users))
            except Exception:
                log.exception("recording %d members of guild %s failed", len(users), guild_id)
                self._seen.difference_update((guild_id, user) for user in users)

    async def record_linked(self, guild_id: int, discord_user_ids: list[int]) -> int:
        """Record the linked ones, and those with plays, among a guild's cached members who are
        not recorded yet.

        Only they count anywhere (top lists need a link, plays do not), and a member who links
        or plays later is recorded then, so a guild of thousands costs one lookup per chunk
        instead of thousands of writes.
        """
        added = 0
        for start in range(0, len(discord_user_ids), RECORD_CHUNK):
            chunk = discord_user_ids[start : start + RECORD_CHUNK]
            async with self._sessions() as session:
                linked = await linked_among(session, chunk)
                linked |= await with_plays_among(session, chunk)
                known = await recorded_among(session, guild_id, linked)
            new = sorted(linked - known)
            if new:
                await self.record(guild_id, new)
                added += len(new)
        return added

    async def drain(self) -> None:
        """Finish writing members noted so far (at shutdown, and in tests)."""
        if self._flusher is not None:
            await self._flusher

    async def record(self, guild_id: int, discord_user_ids: list[int]) -> None:
        """Note that these members are in the guild (visible unless they said otherwise)."""
        if not discord_user_ids:
            return
        async with session_scope(self._sessions, shared_writes=True) as session:
            await record_members(session, guild_id, discord_user_ids, datetime.now(UTC))

    async def remove(self, guild_id: int, discord_user_id: int) -> None:
        async with session_scope(self._sessions, shared_writes=True) as session:
            await remove_membership(session, guild_id, discord_user_id)

    async def remove_guild(self, guild_id: int) -> None:
        async with session_scope(self._sessions, shared_writes=True) as session:
            await remove_guild(session, guild_id)

    async def is_visible(self, guild_id: int, discord_user_id: int) -> bool:
        """Members are visible by default; only an explicit /privacy choice hides them."""
        async with self._sessions() as session:
            return await visibility.is_visible(session, guild_id, discord_user_id)

    async def set_visible(self, guild_id: int, discord_user_id: int, visible: bool) -> None:
        """The member's choice for this guild; it outlives their membership (see
        `MemberVisibility`), so leaving and coming back does not undo it."""
        await self.record(guild_id, [discord_user_id])
        async with session_scope(self._sessions, shared_writes=True) as session:
            await visibility.set_visible(
                session, guild_id, discord_user_id, visible, datetime.now(UTC)
            )
            await sync_members(session, [discord_user_id], guild_id)
        self.hidden.mark(guild_id, discord_user_id, visible)
