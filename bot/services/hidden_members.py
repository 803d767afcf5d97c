"""Which members hid themselves in which guild (/privacy), held in memory.

Like `LinkedMembers`, this only lets a command answer Discord at once: a member not in the set
is taken as visible for the first response (a deferred "thinking" reply), and the access rule
then reads the stored choice before anything about them is shown. A member in the set goes
the slow way, the database deciding before the first response, so a refusal stays private.
Kept current as a `MirroredSet`; an out-of-date entry costs a slower first response or a
thinking reply replaced by a private refusal, never a hidden member's data.

Memory: one pair of ints per hidden choice (hiding is rare).
"""

from __future__ import annotations

from bot.db.engine import Sessions
from bot.services.mirrored_set import RELOAD_SECONDS, MirroredSet
from bot.store.visibility import hidden_pairs


class HiddenMembers(MirroredSet[tuple[int, int]]):
    def __init__(self, sessions: Sessions, reload_seconds: float = RELOAD_SECONDS) -> None:
        super().__init__(sessions, hidden_pairs, "hidden members", reload_seconds)

    def hidden(self, guild_id: int, discord_user_id: int) -> bool:
        return (guild_id, discord_user_id) in self

    def mark(self, guild_id: int, discord_user_id: int, visible: bool) -> None:
        """A choice this process stored."""
        self._mark((guild_id, discord_user_id), not visible)
