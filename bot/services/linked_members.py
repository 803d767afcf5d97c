"""Which members have a working link, held in memory.

A command checks "is this member linked?" before its first answer to Discord, which has to
come within 3 s and, under load, is what members wait for. Answering that from memory, with
no database round trip, lets the first answer go out at once (see bench/interactions.py).

Only a yes is trusted. A member not in the set is looked up in the database, so a member who
just linked through another process (a web-only one, say) is never refused. A yes can be out
of date when another process unlinked the member or marked the link unusable: the set is a
`MirroredSet` (reloaded, this process's own changes at once), and whatever the
command then reads checks the link again (tokens, stored lists), so a stale yes costs at most
a later refusal, never another member's data.

Memory: one int per linked member (about 100 bytes each in a Python set).
"""

from __future__ import annotations

from bot.db.engine import Sessions
from bot.services.mirrored_set import RELOAD_SECONDS, MirroredSet
from bot.store.links import active_link_ids


class LinkedMembers(MirroredSet[int]):
    def __init__(self, sessions: Sessions, reload_seconds: float = RELOAD_SECONDS) -> None:
        super().__init__(sessions, active_link_ids, "linked members", reload_seconds)

    def mark(self, discord_user_id: int, active: bool) -> None:
        """Record a link change this process made or saw in the database."""
        self._mark(discord_user_id, active)
