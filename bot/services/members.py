"""Guild membership and visibility, and forgetting a member entirely."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import session_scope, upsert_insert
from bot.db.models import (
    GuildMember,
    OAuthState,
    Share,
    ShareSave,
    SpotifyLink,
    TopItem,
    TopSnapshot,
)
from bot.store import visibility
from bot.store.scores import forget_guild, forget_member, sync_members


async def remove_member_data(
    session: AsyncSession, discord_user_id: int, *, keep_memberships: bool = False
) -> None:
    """Delete every stored datum about a member: tokens, snapshots, pending states, saves,
    shares, memberships and visibility choices (the last three kept when only the Spotify
    account changes)."""
    await forget_member(session, discord_user_id)
    for model in (TopItem, TopSnapshot, OAuthState, ShareSave, SpotifyLink):
        await session.execute(delete(model).where(model.discord_user_id == discord_user_id))
    if not keep_memberships:
        await session.execute(delete(Share).where(Share.sharer_id == discord_user_id))
        await session.execute(
            delete(GuildMember).where(GuildMember.discord_user_id == discord_user_id)
        )
        await visibility.forget_choices(session, discord_user_id)


log = logging.getLogger(__name__)

SEEN_LIMIT = 200_000
RECORD_CHUNK = 500


class MembershipService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
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
        """Record the linked ones among a guild's cached members who are not recorded yet.

        Only linked members count anywhere, and a member who links later is recorded then,
        so a guild of thousands costs one lookup per chunk instead of thousands of writes.
        """
        added = 0
        for start in range(0, len(discord_user_ids), RECORD_CHUNK):
            chunk = discord_user_ids[start : start + RECORD_CHUNK]
            async with self._sessions() as session:
                linked = set(
                    await session.scalars(
                        select(SpotifyLink.discord_user_id).where(
                            SpotifyLink.discord_user_id.in_(chunk)
                        )
                    )
                )
                known = set(
                    await session.scalars(
                        select(GuildMember.discord_user_id).where(
                            GuildMember.guild_id == guild_id,
                            GuildMember.discord_user_id.in_(linked),
                        )
                    )
                )
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
        now = datetime.now(UTC)
        async with session_scope(self._sessions, shared_writes=True) as session:
            insert = upsert_insert(session)
            rows = [
                {"guild_id": guild_id, "discord_user_id": uid, "seen_at": now}
                for uid in discord_user_ids
            ]
            stmt = insert(GuildMember).values(rows)
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["guild_id", "discord_user_id"],
                    set_={"seen_at": stmt.excluded.seen_at},
                )
            )
            await sync_members(session, discord_user_ids, guild_id)

    async def remove(self, guild_id: int, discord_user_id: int) -> None:
        async with session_scope(self._sessions, shared_writes=True) as session:
            await forget_member(session, discord_user_id, guild_id)
            await session.execute(
                delete(GuildMember).where(
                    GuildMember.guild_id == guild_id,
                    GuildMember.discord_user_id == discord_user_id,
                )
            )

    async def remove_guild(self, guild_id: int) -> None:
        async with session_scope(self._sessions, shared_writes=True) as session:
            await forget_guild(session, guild_id)
            await session.execute(delete(GuildMember).where(GuildMember.guild_id == guild_id))

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
