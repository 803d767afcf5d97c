"""Linked accounts: who is linked as whom, a member's Spotify API handle, and /unlink."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.db.engine import Sessions, session_scope
from bot.db.models import SpotifyLink
from bot.db.vault import TokenVault
from bot.domain import LinkStatus
from bot.services.linked_members import LinkedMembers
from bot.services.tokens import MemberTokens
from bot.spotify.client import SpotifyClient, SpotifyUserApi
from bot.spotify.ids import SpotifyKind, SpotifyRef
from bot.spotify.oauth import SpotifyOAuth
from bot.spotify.scopes import has_listening_scopes
from bot.store.links import get_link, mark_link
from bot.store.member_data import remove_member_data
from bot.store.recent_polls import take_relink_notice

log = logging.getLogger(__name__)

REFRESH_TOKEN_MONTHS = 6


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class LinkedAccount:
    discord_user_id: int
    display_name: str
    spotify_user_id: str
    profile_url: str
    avatar_url: str | None
    linked_at: datetime
    authorized_at: datetime
    status: LinkStatus
    listening_history: bool = True
    """False for a link made before Encore asked for the listening scopes: /link again."""

    @property
    def usable(self) -> bool:
        return self.status == LinkStatus.ACTIVE

    @property
    def renew_by(self) -> datetime:
        """Spotify refresh tokens die six months after the member authorised."""
        return add_months(self.authorized_at, REFRESH_TOKEN_MONTHS)


def _account(link: SpotifyLink) -> LinkedAccount:
    return LinkedAccount(
        discord_user_id=link.discord_user_id,
        display_name=link.display_name or link.spotify_user_id,
        spotify_user_id=link.spotify_user_id,
        profile_url=SpotifyRef(SpotifyKind.USER, link.spotify_user_id).url,
        avatar_url=link.avatar_url,
        linked_at=link.linked_at,
        authorized_at=link.authorized_at,
        status=link.status,
        listening_history=has_listening_scopes(link.scopes),
    )


class AccountService:
    def __init__(
        self,
        sessions: Sessions,
        vault: TokenVault,
        oauth: SpotifyOAuth,
        spotify: SpotifyClient,
        linked: LinkedMembers | None = None,
    ) -> None:
        self._sessions = sessions
        self._vault = vault
        self._oauth = oauth
        self._spotify = spotify
        self.linked = linked if linked is not None else LinkedMembers(sessions)

    async def find(self, discord_user_id: int) -> LinkedAccount | None:
        async with self._sessions() as session:
            link = await get_link(session, discord_user_id)
            account = None if link is None else _account(link)
        self.linked.mark(discord_user_id, account is not None and account.usable)
        return account

    async def take_relink_notice(self, discord_user_id: int) -> bool:
        """True the first time a member whose link predates the listening scopes uses a history
        command (they are told once to /link again); False for everyone else and afterwards."""
        async with session_scope(self._sessions) as session:
            return await take_relink_notice(session, discord_user_id, datetime.now(UTC))

    async def mark(
        self, discord_user_id: int, status: LinkStatus, *, if_refresh_enc: bytes | None = None
    ) -> None:
        """Mark an active link unusable (revoked, broken, not allow-listed); with
        `if_refresh_enc`, only while it still holds that refresh token (see `mark_link`)."""
        async with session_scope(self._sessions, shared_writes=True) as session:
            marked = await mark_link(
                session, discord_user_id, status, if_refresh_enc=if_refresh_enc
            )
        if marked or if_refresh_enc is None:
            self.linked.mark(discord_user_id, False)
        if marked:
            log.warning("link of member %s marked %s", discord_user_id, status.value)

    def api(self, discord_user_id: int, *, interactive: bool = True) -> SpotifyUserApi:
        tokens = MemberTokens(
            discord_user_id, self._sessions, self._vault, self._oauth, mark=self.mark
        )
        return self._spotify.user(tokens, interactive=interactive)

    async def unlink(self, discord_user_id: int) -> bool:
        """Forget the member entirely; True when there was anything to forget."""
        self.linked.mark(discord_user_id, False)
        async with session_scope(self._sessions, shared_writes=True) as session:
            had_link = await get_link(session, discord_user_id) is not None
            await remove_member_data(session, discord_user_id)
        return had_link
