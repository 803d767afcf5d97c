"""Spotify links: one row per linked member, with their encrypted tokens and sync schedule."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import SpotifyLink
from bot.domain import LinkStatus
from bot.store.scores import sync_members


@dataclass(frozen=True)
class LinkFacts:
    """ACTIVE links, and the oldest moment one of them was last brought up to date (its last
    sync, or when it was linked if it never was); None when there are no ACTIVE links."""

    active: int
    oldest_sync: datetime | None


@dataclass(frozen=True)
class NewTokens:
    """Encrypted tokens as the token endpoint last gave them."""

    access_token_enc: bytes
    refresh_token_enc: bytes
    access_expires_at: datetime
    scopes: str


async def get_link(
    session: AsyncSession, discord_user_id: int, *, fresh: bool = False
) -> SpotifyLink | None:
    """The member's link; `fresh` reloads it even when the session holds it already."""
    return await session.get(SpotifyLink, discord_user_id, populate_existing=fresh)


async def active_link_ids(session: AsyncSession) -> set[int]:
    rows = await session.scalars(
        select(SpotifyLink.discord_user_id).where(SpotifyLink.status == LinkStatus.ACTIVE)
    )
    return set(rows)


async def linked_among(session: AsyncSession, discord_user_ids: Collection[int]) -> set[int]:
    """Those of `discord_user_ids` who have a link (of any status)."""
    rows = await session.scalars(
        select(SpotifyLink.discord_user_id).where(SpotifyLink.discord_user_id.in_(discord_user_ids))
    )
    return set(rows)


async def holder_of_account(
    session: AsyncSession, spotify_account_id: str, *, other_than: int
) -> int | None:
    """The member other than `other_than` whose link is to this Spotify account, if any."""
    holder: int | None = await session.scalar(
        select(SpotifyLink.discord_user_id).where(
            SpotifyLink.spotify_account_id == spotify_account_id,
            SpotifyLink.discord_user_id != other_than,
        )
    )
    return holder


async def put_link(
    session: AsyncSession,
    discord_user_id: int,
    *,
    spotify_account_id: str,
    spotify_user_id: str,
    display_name: str | None,
    avatar_url: str | None,
    tokens: NewTokens,
    now: datetime,
) -> None:
    """Create or renew the member's ACTIVE link, due for a sync now, counted in the guild scores.

    The caller removes what belonged to another account first (`forget_member_data`).
    """
    link = await session.get(SpotifyLink, discord_user_id)
    if link is None:
        link = SpotifyLink(discord_user_id=discord_user_id, linked_at=now)
        session.add(link)
    link.spotify_account_id = spotify_account_id
    link.spotify_user_id = spotify_user_id
    link.display_name = display_name
    link.avatar_url = avatar_url
    link.access_token_enc = tokens.access_token_enc
    link.refresh_token_enc = tokens.refresh_token_enc
    link.access_expires_at = tokens.access_expires_at
    link.scopes = tokens.scopes
    link.authorized_at = now
    link.status = LinkStatus.ACTIVE
    link.sync_due_at = now
    await sync_members(session, [discord_user_id])


async def lock_link(session: AsyncSession, discord_user_id: int) -> SpotifyLink | None:
    """The member's link, read again and locked until the transaction ends: one token refresh
    at a time per member, across processes.

    The first statement of its transaction. PostgreSQL: `SELECT ... FOR UPDATE` on the row.
    SQLite: a no-op UPDATE of the row first, which takes the database's single write lock
    (what BEGIN IMMEDIATE would) before the read, so a second process waits for the first.
    """
    if session.get_bind().dialect.name == "postgresql":
        query = select(SpotifyLink).where(SpotifyLink.discord_user_id == discord_user_id)
        found: SpotifyLink | None = await session.scalar(
            query.with_for_update().execution_options(populate_existing=True)
        )
        return found
    await session.execute(
        update(SpotifyLink)
        .where(SpotifyLink.discord_user_id == discord_user_id)
        .values(discord_user_id=SpotifyLink.discord_user_id)
        .execution_options(synchronize_session=False)
    )
    return await get_link(session, discord_user_id, fresh=True)


async def replace_tokens(
    session: AsyncSession, discord_user_id: int, read_refresh_enc: bytes, tokens: NewTokens
) -> bool:
    """Store refreshed tokens only if the ACTIVE link still holds the refresh token they were
    refreshed from (ciphertext compared: every encryption differs, so a relink or another
    refresh always changes it); False when it no longer does, and nothing is written."""
    stored = await session.scalar(
        update(SpotifyLink)
        .where(
            SpotifyLink.discord_user_id == discord_user_id,
            SpotifyLink.refresh_token_enc == read_refresh_enc,
            SpotifyLink.status == LinkStatus.ACTIVE,
        )
        .values(
            access_token_enc=tokens.access_token_enc,
            refresh_token_enc=tokens.refresh_token_enc,
            access_expires_at=tokens.access_expires_at,
            scopes=tokens.scopes,
        )
        .returning(SpotifyLink.discord_user_id)
        .execution_options(synchronize_session=False)
    )
    return stored is not None


async def mark_link(
    session: AsyncSession,
    discord_user_id: int,
    status: LinkStatus,
    *,
    if_refresh_enc: bytes | None = None,
) -> bool:
    """Set an ACTIVE link's status (revoked, broken, not allow-listed); its lists stop counting
    in every guild at once. `if_refresh_enc`: only while the link still holds that refresh
    token (the one Spotify refused), so a relink meanwhile is left alone. Take
    `lock_shared_writes` first (it writes guild scores). True when the link was marked."""
    query = update(SpotifyLink).where(
        SpotifyLink.discord_user_id == discord_user_id,
        SpotifyLink.status == LinkStatus.ACTIVE,
    )
    if if_refresh_enc is not None:
        query = query.where(SpotifyLink.refresh_token_enc == if_refresh_enc)
    marked = await session.scalar(
        query.values(status=status)
        .returning(SpotifyLink.discord_user_id)
        .execution_options(synchronize_session=False)
    )
    if marked is None:
        return False
    await sync_members(session, [discord_user_id])
    return True


async def read_link_facts(session: AsyncSession) -> LinkFacts:
    since = func.min(func.coalesce(SpotifyLink.synced_at, SpotifyLink.linked_at))
    row = (
        await session.execute(
            select(func.count(), since).where(SpotifyLink.status == LinkStatus.ACTIVE)
        )
    ).one()
    return LinkFacts(active=row[0], oldest_sync=row[1])
