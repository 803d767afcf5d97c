"""Forgetting a member: every row about them, in the order the guild scores need."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    GuildMember,
    ImportLink,
    OAuthState,
    Share,
    ShareSave,
    SpotifyLink,
    TopItem,
    TopSnapshot,
)
from bot.store import visibility
from bot.store.scores import forget_member


async def remove_member_data(
    session: AsyncSession, discord_user_id: int, *, keep_memberships: bool = False
) -> None:
    """Delete every stored datum about a member: tokens, snapshots, pending links and imports,
    saves, shares, memberships and visibility choices (the last three kept when only the Spotify
    account changes). Plays stay: deleting them is the member's separate choice.
    Take `lock_shared_writes` first (it withdraws the member's lists from the guild scores)."""
    await forget_member(session, discord_user_id)
    for model in (TopItem, TopSnapshot, OAuthState, ImportLink, ShareSave, SpotifyLink):
        await session.execute(delete(model).where(model.discord_user_id == discord_user_id))
    if not keep_memberships:
        await session.execute(delete(Share).where(Share.sharer_id == discord_user_id))
        await session.execute(
            delete(GuildMember).where(GuildMember.discord_user_id == discord_user_id)
        )
        await visibility.forget_choices(session, discord_user_id)
