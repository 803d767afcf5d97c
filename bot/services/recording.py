"""Who is recorded: the guilds whose admins switched `record_listening` on, and the members
who said `/privacy record:false` (everywhere). Both sets live in memory so the presence path
never waits on the database; the database stays the truth (re-read by `refresh`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from bot.db.engine import Sessions, session_scope
from bot.store import recording as store
from bot.store.plays import delete_plays


class RecordingSwitches:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._guilds: set[int] = set()
        self._opted_out: set[int] = set()

    async def refresh(self) -> None:
        """Read both switches again (other processes may have changed them)."""
        async with self._sessions() as session:
            self._guilds = await store.recording_guilds(session)
            self._opted_out = await store.members_not_recording(session)

    def guild_records(self, guild_id: int) -> bool:
        return guild_id in self._guilds

    def member_records(self, discord_user_id: int) -> bool:
        return discord_user_id not in self._opted_out

    def any_guild_records(self, guild_ids: Collection[int]) -> bool:
        return any(g in self._guilds for g in guild_ids)

    async def set_guild(self, guild_id: int, on: bool) -> None:
        async with session_scope(self._sessions) as session:
            await store.set_guild_recording(session, guild_id, on)
        (self._guilds.add if on else self._guilds.discard)(guild_id)

    async def set_member(self, discord_user_id: int, record: bool) -> None:
        """The member's own switch; `False` takes effect at once, before the write."""
        (self._opted_out.discard if record else self._opted_out.add)(discord_user_id)
        async with session_scope(self._sessions) as session:
            await store.set_member_recording(session, discord_user_id, record, datetime.now(UTC))

    async def records(self, discord_user_id: int) -> bool:
        """The member's switch as stored (for other processes, e.g. the import page)."""
        async with self._sessions() as session:
            return await store.member_records(session, discord_user_id)

    async def opted_out_among(self, discord_user_ids: Collection[int]) -> set[int]:
        """Of these members, who said `record:false`, as stored (checked before every write)."""
        async with self._sessions() as session:
            stored = await store.members_not_recording(session, discord_user_ids)
        self._opted_out |= stored
        return stored

    async def delete_plays(self, discord_user_id: int) -> int:
        """Delete every recorded play of the member (all sources); returns how many."""
        async with session_scope(self._sessions) as session:
            return await delete_plays(session, discord_user_id)
