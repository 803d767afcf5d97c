"""The access rule, applied once per command before it answers: whose data may it show?

The member asked about (or the invoker) must be a current member of this guild and visible
here; what is read from their Spotify account also needs their working link. "Linked" is a
separate part of the rule (`spotify=`) because plays from presence or imports need no link.

The invoker is in the guild (Discord says so by sending the interaction) and sees their own
data whatever they chose in /privacy, which governs what *others* see. Another member is a
current member when Discord resolved them as one in the interaction; what Encore stored about
their membership is brought in line with that when the two disagree, so rankings, which read
the stored memberships, count the same members the rule lets through.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.engine import Sessions
from bot.domain import (
    InvalidInput,
    LinkBroken,
    LinkStatus,
    MemberHidden,
    MemberNotLinked,
    NotAMember,
    NotLinked,
)
from bot.services.linked_members import LinkedMembers
from bot.services.members import MembershipService
from bot.store import access as store


@dataclass(frozen=True)
class Asked:
    """Another member a command asks about, as Discord resolved them in the interaction."""

    discord_user_id: int
    name: str
    in_guild: bool  # resolved as a member of the guild the command runs in


@dataclass(frozen=True)
class Subject:
    """A member whose data the command may show, as `AccessService.check` found, and who asked."""

    discord_user_id: int
    invoker_id: int

    @property
    def is_invoker(self) -> bool:
        return self.discord_user_id == self.invoker_id


class AccessService:
    def __init__(
        self,
        sessions: Sessions,
        linked: LinkedMembers,
        members: MembershipService,
    ) -> None:
        self._sessions = sessions
        self._linked = linked
        self._members = members

    def cleared(
        self,
        *,
        guild_id: int | None,
        invoker_id: int,
        asked: Asked | None = None,
        spotify: bool = True,
        invoker_linked: bool = False,
    ) -> bool:
        """Whether what is held in memory (linked members, hidden members, Discord's own
        resolution of `asked`) already lets the command through, so it may answer Discord
        before `check`, which must still run before anything is shown. False only means the
        database has to decide (a refusal is then the first, private answer)."""
        own_link = spotify if asked is None or asked.discord_user_id == invoker_id else False
        if (own_link or invoker_linked) and invoker_id not in self._linked:
            return False
        if asked is None or asked.discord_user_id == invoker_id:
            return True
        user_id = asked.discord_user_id
        return (
            guild_id is not None
            and asked.in_guild
            and not self._members.hidden.hidden(guild_id, user_id)
            and (not spotify or user_id in self._linked)
        )

    async def check(
        self,
        *,
        guild_id: int | None,
        invoker_id: int,
        asked: Asked | None = None,
        spotify: bool = True,
        invoker_linked: bool = False,
    ) -> Subject:
        """The subject of a command: `asked` (None or the invoker: the invoker themselves).

        `spotify`: the command reads the subject's Spotify account, so they must be linked.
        `invoker_linked`: it reads the invoker's account too (e.g. /compat).
        Raises NotLinked / LinkBroken about the invoker, and NotAMember / MemberHidden /
        MemberNotLinked about another member, in that order (a hidden member's link status
        is never revealed).
        """
        if asked is None or asked.discord_user_id == invoker_id:
            if spotify or invoker_linked:
                await self._require_own_link(invoker_id)
            return Subject(invoker_id, invoker_id)
        if guild_id is None:
            raise InvalidInput("Ask about another member inside a server you share with them.")
        if invoker_linked:
            await self._require_own_link(invoker_id)
        user_id = asked.discord_user_id
        async with self._sessions() as session:
            stored = await store.stored_member(session, guild_id, user_id)
        if not asked.in_guild:
            if stored.recorded:
                await self._members.remove(guild_id, user_id)
            raise NotAMember(asked.name)
        if not stored.recorded:
            self._members.note_seen(guild_id, user_id)
        if not stored.visible:
            raise MemberHidden(asked.name)
        if spotify and user_id not in self._linked:
            self._linked.mark(user_id, stored.link is LinkStatus.ACTIVE)
            if stored.link is not LinkStatus.ACTIVE:
                raise MemberNotLinked(asked.name)
        return Subject(user_id, invoker_id)

    async def _require_own_link(self, discord_user_id: int) -> None:
        """From memory when the member is known to be linked (see LinkedMembers), else from
        the database: NotLinked / LinkBroken saying what to do."""
        if discord_user_id in self._linked:
            return
        async with self._sessions() as session:
            status = await store.link_status(session, discord_user_id)
        self._linked.mark(discord_user_id, status is LinkStatus.ACTIVE)
        if status is None:
            raise NotLinked()
        if status is not LinkStatus.ACTIVE:
            raise LinkBroken(status)
