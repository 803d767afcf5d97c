"""One-time links to the /import upload page.

A token is random, bound to one member, stored only as a hash, valid for 30 minutes and
usable until one import through it completes; a new /import replaces the member's link. The
/import interaction token is kept encrypted beside it so the reply can show the result.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.db.engine import Sessions, session_scope
from bot.db.vault import TokenUndecryptable, TokenVault
from bot.store.import_links import get_link, mark_link_used, replace_link

LINK_LIFETIME = timedelta(minutes=30)
IMPORT_PATH = "/import"
MAX_TOKEN_LENGTH = 128
MEMBER_NAME_LENGTH = 100


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkProblem(enum.Enum):
    UNKNOWN = "unknown"  # never issued, or replaced by a newer /import
    EXPIRED = "expired"
    USED = "used"  # an import through it completed


class ImportLinkError(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class ImportTicket:
    """What an import link stands for: whose import, and how to edit their /import reply."""

    token_hash: str
    discord_user_id: int
    member_name: str
    guild_id: int | None
    application_id: int | None
    interaction_token: str | None
    expires_at: datetime


class ImportLinks:
    def __init__(
        self,
        sessions: Sessions,
        vault: TokenVault,
        *,
        base_url: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._base_url = base_url
        self._clock = clock

    def page_url(self, token: str) -> str:
        return f"{self._base_url}{IMPORT_PATH}/{token}"

    async def create(
        self,
        discord_user_id: int,
        member_name: str,
        *,
        guild_id: int | None,
        application_id: int | None,
        interaction_token: str | None,
    ) -> str:
        """A new link for the member (their earlier one stops working); returns its URL."""
        token, now = secrets.token_urlsafe(32), self._clock()
        async with session_scope(self._sessions) as session:
            await replace_link(
                session,
                token_hash=hash_token(token),
                discord_user_id=discord_user_id,
                member_name=member_name[:MEMBER_NAME_LENGTH],
                guild_id=guild_id,
                interaction_token_enc=(
                    self._vault.encrypt(interaction_token) if interaction_token else None
                ),
                application_id=application_id,
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        return self.page_url(token)

    async def open(self, token: str) -> ImportTicket:
        """The ticket of a link that may still take an upload; ImportLinkError otherwise."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise ImportLinkError(LinkProblem.UNKNOWN)
        async with self._sessions() as session:
            row = await get_link(session, hash_token(token))
        if row is None:
            raise ImportLinkError(LinkProblem.UNKNOWN)
        if row.used_at is not None:
            raise ImportLinkError(LinkProblem.USED)
        if row.expires_at <= self._clock():
            raise ImportLinkError(LinkProblem.EXPIRED)
        try:
            interaction_token = (
                self._vault.decrypt(row.interaction_token_enc)
                if row.interaction_token_enc
                else None
            )
        except TokenUndecryptable:
            interaction_token = None
        return ImportTicket(
            token_hash=row.token_hash,
            discord_user_id=row.discord_user_id,
            member_name=row.member_name,
            guild_id=row.guild_id,
            application_id=row.application_id,
            interaction_token=interaction_token,
            expires_at=row.expires_at,
        )

    async def mark_used(self, ticket: ImportTicket) -> None:
        """An import through the link completed: it takes no further upload."""
        async with session_scope(self._sessions) as session:
            await mark_link_used(session, ticket.token_hash, self._clock())
