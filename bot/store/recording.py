"""The recording switches: a guild's `record_listening` and a member's own `record` choice."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import upsert_insert
from bot.db.models import GuildSettings, MemberRecording
from bot.store.play_catalog import chunks


async def recording_guilds(session: AsyncSession) -> set[int]:
    """The guilds whose admins switched recording of listening on."""
    rows = await session.scalars(
        select(GuildSettings.guild_id).where(GuildSettings.record_listening.is_(True))
    )
    return set(rows)


async def set_guild_recording(session: AsyncSession, guild_id: int, on: bool) -> None:
    insert = upsert_insert(session)
    stmt = insert(GuildSettings).values(guild_id=guild_id, record_listening=on)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["guild_id"], set_={"record_listening": stmt.excluded.record_listening}
        )
    )


async def members_not_recording(
    session: AsyncSession, among: Collection[int] | None = None
) -> set[int]:
    """The members (of `among`, else all) who said `record:false`."""
    query = select(MemberRecording.discord_user_id).where(MemberRecording.record.is_(False))
    found: set[int] = set()
    if among is None:
        return set(await session.scalars(query))
    for part in chunks(sorted(set(among))):
        found.update(await session.scalars(query.where(MemberRecording.discord_user_id.in_(part))))
    return found


async def member_records(session: AsyncSession, discord_user_id: int) -> bool:
    record = await session.scalar(
        select(MemberRecording.record).where(MemberRecording.discord_user_id == discord_user_id)
    )
    return True if record is None else record


async def set_member_recording(
    session: AsyncSession, discord_user_id: int, record: bool, now: datetime
) -> None:
    insert = upsert_insert(session)
    stmt = insert(MemberRecording).values(
        discord_user_id=discord_user_id, record=record, chosen_at=now
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["discord_user_id"],
            set_={"record": stmt.excluded.record, "chosen_at": stmt.excluded.chosen_at},
        )
    )
