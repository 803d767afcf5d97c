"""Per-guild play boards, kept current so rankings by plays read an index range, not every
member's day rows (issue 15 targets: 50 ms at 2,000 members x a year).

Tables (bot/db/models.py)
- `guild_play_members (user, guild)`: whose plays count where. A row exists exactly while the
  user is a member of the guild (`guild_members`) and not hidden there (`member_visibility`):
  the rule of bot/store/play_rankings.py, recorded so a change of membership or visibility
  knows what counted before it.
- `user_play_periods (user, kind, period, item)`: a user's plays and ms of an item over each
  rolling period, `period` being its length in days (7, 30, 365); all time is `play_totals`.
  `ix_user_play_periods_item (kind, period, item, user)` makes "who played X this month" one
  range of at most one entry per listener (/whoknows sorts those), where a year of `play_days`
  would be hundreds per listener. Not ordered by plays: that entry would move on every play.
  It names the user too, so that a lookup of one user row by its whole key is exact through
  either index (PostgreSQL chose this one for the boards' upkeep and walked every listener).
- `guild_play_periods (guild, kind, period, item)`: the sums of those rows (period 0: of
  `play_totals`) over the guild's counted members, with `listeners`, how many of them have the
  item. `ix_guild_play_periods_board (guild, kind, period, plays DESC, listeners DESC, item)`
  is the board's order, so a page is an index range and a deep page an OFFSET along it.

Invariant, for the stored window day E (`bot_state` "play_periods_day"): a user's row for
period p is the sum of their `play_days` with day >= E - p + 1 (no upper bound, as in the
reference); a guild's row is the sum over its `guild_play_members` of their rows, listeners the
number of those rows. Rows reaching zero are deleted.

Upkeep, in the caller's transaction:
- plays added or removed: every change of `play_days`/`play_totals` becomes a delta per (user,
  kind, period, item) in a temporary table (`play_period_delta`), applied by `apply_delta`
  after the per-user aggregates changed: the user rows first, then each guild where the user
  counts, the listener count moving when a user row appears or goes. `store_plays` (the hot
  path, bot/store/play_writes.py) fills it from its batch in one statement; `add_aggregates`
  (merges, re-crediting) from its rows; `drop_plays` before a member's plays are deleted.
- memberships and visibility: `sync_members`, `forget_member`, `forget_guild` (called from the
  guild-score hooks of bot/store/scores.py, which every such change already runs) add or
  subtract a member's rows in the guild.
- time: `roll_periods` moves E to today, subtracting the days that left each window (read per
  user along `play_days`' key); `ensure_current` runs it before reads when E is behind (one
  key lookup when current) and the bot runs it daily. With E missing (a new or upgraded
  database) it builds everything from `play_days`/`play_totals` (`rebuild`); writers skip
  upkeep until then.

Writers serialise on `lock_shared_writes` (PostgreSQL) and the single writer (SQLite): every
path here runs under them, so E and the rows it read cannot move before it writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import lock_shared_writes
from bot.domain import Period

STATE_KEY = "play_periods_day"
ROLLING = (7, 30, 365)
ALL_TIME = 0
IN_CHUNK = 500
NO_START = -(2**31)


def period_code(period: Period) -> int:
    return period.days or ALL_TIME


def today_number() -> int:
    return int(datetime.now(UTC).timestamp() // 86_400)


def periods_sql(end_day: int, *, all_time: bool = True) -> str:
    """A subquery of (period, first_day) for the windows ending on `end_day` (the rolling
    ones only, without `all_time`)."""
    rows = [f"SELECT {p} AS period, {end_day - p + 1} AS first_day" for p in ROLLING]
    if all_time:
        rows.append(f"SELECT {ALL_TIME}, {NO_START}")
    return "(" + " UNION ALL ".join(rows) + ")"


async def window_day(session: AsyncSession) -> int | None:
    """E, the day the rolling windows end on; None while the tables are not built."""
    value = await session.scalar(
        text("SELECT value FROM bot_state WHERE key = :key"), {"key": STATE_KEY}
    )
    return None if value is None else int(value)


async def _set_window_day(session: AsyncSession, day: int) -> None:
    await session.execute(text("DELETE FROM bot_state WHERE key = :key"), {"key": STATE_KEY})
    await session.execute(
        text("INSERT INTO bot_state (key, value) VALUES (:key, :value)"),
        {"key": STATE_KEY, "value": str(day)},
    )


async def _become_writer(session: AsyncSession) -> None:
    await lock_shared_writes(session)
    if _dialect(session) == "sqlite":
        await session.execute(text("DELETE FROM guild_play_members WHERE 0"))


async def _window_day_as_writer(session: AsyncSession) -> int | None:
    """The window day, read once this transaction is the writer: a rebuild or rollover in
    another transaction has then either committed (and is seen) or waits for this one, so a
    change is never skipped as "not built yet" while a build that misses it commits."""
    await _become_writer(session)
    return await window_day(session)


# --- deltas -----------------------------------------------------------------------------------

_DELTA_COLUMNS = "discord_user_id, kind, period, item_id, plays, ms_played"
_CREATE_DELTA = (
    "CREATE TEMP TABLE IF NOT EXISTS play_period_delta (discord_user_id BIGINT, kind SMALLINT,"
    " period SMALLINT, item_id INTEGER, plays INTEGER, ms_played BIGINT)"
)
_UPSERT_USERS = f"""
INSERT INTO user_play_periods ({_DELTA_COLUMNS})
SELECT {_DELTA_COLUMNS} FROM play_period_delta WHERE period <> 0 AND plays <> 0
ON CONFLICT (discord_user_id, kind, period, item_id) DO UPDATE SET
plays = user_play_periods.plays + excluded.plays,
ms_played = user_play_periods.ms_played + excluded.ms_played
"""
_SAME_USER_ROW = (
    "u.discord_user_id = d.discord_user_id AND u.kind = d.kind AND u.period = d.period"
    " AND u.item_id = d.item_id"
)
_DROP_EMPTY_USERS = {
    "sqlite": """
DELETE FROM user_play_periods WHERE plays <= 0
AND (discord_user_id, kind, period, item_id) IN (
SELECT discord_user_id, kind, period, item_id FROM play_period_delta
WHERE plays < 0 AND period <> 0)
""",
    "postgresql": f"""
DELETE FROM user_play_periods u USING play_period_delta d
WHERE d.plays < 0 AND d.period <> 0 AND {_SAME_USER_ROW} AND u.plays <= 0
""",
}
_UPSERT_GUILDS = """
INSERT INTO guild_play_periods (guild_id, kind, period, item_id, plays, ms_played, listeners)
SELECT m.guild_id, d.kind, d.period, d.item_id, SUM(d.plays), SUM(d.ms_played),
SUM(CASE WHEN COALESCE(u.plays, 0) > 0 THEN 1 ELSE 0 END
  - CASE WHEN COALESCE(u.plays, 0) - d.plays > 0 THEN 1 ELSE 0 END)
FROM play_period_delta d
JOIN guild_play_members m ON m.discord_user_id = d.discord_user_id
LEFT JOIN {rows} u ON u.discord_user_id = d.discord_user_id
  AND u.kind = d.kind AND {same_period} AND u.item_id = d.item_id
WHERE d.plays <> 0 AND {which}
GROUP BY m.guild_id, d.kind, d.period, d.item_id
ON CONFLICT (guild_id, kind, period, item_id) DO UPDATE SET
plays = guild_play_periods.plays + excluded.plays,
ms_played = guild_play_periods.ms_played + excluded.ms_played,
listeners = guild_play_periods.listeners + excluded.listeners
"""
"""New values are read after the user rows changed: a listener is gained where a user row now
has plays and had none before the delta, lost the other way round."""
_UPSERTS_GUILDS = (
    _UPSERT_GUILDS.format(
        rows="user_play_periods", same_period="u.period = d.period", which="d.period <> 0"
    ),
    _UPSERT_GUILDS.format(rows="play_totals", same_period="TRUE", which="d.period = 0"),
)
_DROP_EMPTY_GUILDS = {
    "sqlite": """
DELETE FROM guild_play_periods WHERE listeners <= 0
AND (guild_id, kind, period, item_id) IN (
SELECT m.guild_id, d.kind, d.period, d.item_id FROM play_period_delta d
JOIN guild_play_members m ON m.discord_user_id = d.discord_user_id WHERE d.plays < 0)
""",
    "postgresql": """
DELETE FROM guild_play_periods g USING play_period_delta d, guild_play_members m
WHERE d.plays < 0 AND m.discord_user_id = d.discord_user_id AND g.guild_id = m.guild_id
AND g.kind = d.kind AND g.period = d.period AND g.item_id = d.item_id AND g.listeners <= 0
""",
}


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def prepare_delta(session: AsyncSession) -> None:
    """The temporary delta table, once per connection (emptied at each commit on PostgreSQL,
    where autovacuum never cleans temporary tables)."""
    suffix = " ON COMMIT DELETE ROWS" if _dialect(session) == "postgresql" else ""
    await session.execute(text(_CREATE_DELTA + suffix))


def batch_delta_sql(items_sql: str, end_day: int) -> str:
    """Fill the delta from a batch of new plays: `items_sql` yields (discord_user_id, kind,
    day, item_id, plays, ms_played) rows (bot/store/play_writes.py). All time is a plain
    grouping; only rows inside the longest window meet the rolling periods (an imported
    history is mostly older than that)."""
    oldest = end_day - max(ROLLING) + 1
    return (
        f"INSERT INTO play_period_delta ({_DELTA_COLUMNS}) "
        f"SELECT discord_user_id, kind, {ALL_TIME}, item_id, SUM(plays), SUM(ms_played) "
        f"FROM ({items_sql}) AS i GROUP BY discord_user_id, kind, item_id "
        "UNION ALL "
        "SELECT i.discord_user_id, i.kind, p.period, i.item_id, SUM(i.plays), SUM(i.ms_played) "
        f"FROM ({items_sql}) AS i JOIN {periods_sql(end_day, all_time=False)} AS p "
        f"ON i.day >= p.first_day WHERE i.day >= {oldest} "
        "GROUP BY i.discord_user_id, i.kind, p.period, i.item_id"
    )


async def apply_delta(session: AsyncSession, *, removes: bool) -> None:
    """Apply the filled delta (one row per key) to the user and guild rows, then empty it.
    Call after `play_days` and `play_totals` took the same change. `removes`: some deltas
    are negative (rows may reach zero)."""
    dialect = _dialect(session)
    await session.execute(text(_UPSERT_USERS))
    if removes:
        await session.execute(text(_DROP_EMPTY_USERS[dialect]))
    for statement in _UPSERTS_GUILDS:
        await session.execute(text(statement))
    if removes:
        await session.execute(text(_DROP_EMPTY_GUILDS[dialect]))
    await session.execute(text("DELETE FROM play_period_delta"))


async def count_changes(
    session: AsyncSession,
    days: Sequence[dict[str, int]],
    totals: Sequence[dict[str, int]],
    sign: int,
) -> None:
    """Carry a change of `play_days` rows (`days`) and `play_totals` rows (`totals`), just
    applied with `sign`, into the period tables (see `add_aggregates`)."""
    end = await _window_day_as_writer(session)
    if end is None or not (days or totals):
        return
    summed: dict[tuple[int, int, int, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in days:
        for period in ROLLING:
            if row["day"] >= end - period + 1:
                key = (row["discord_user_id"], row["kind"], period, row["item_id"])
                summed[key][0] += sign * row["plays"]
                summed[key][1] += sign * row["ms_played"]
    for row in totals:
        key = (row["discord_user_id"], row["kind"], ALL_TIME, row["item_id"])
        summed[key][0] += sign * row["plays"]
        summed[key][1] += sign * row["ms_played"]
    if not summed:
        return
    await prepare_delta(session)
    await session.execute(
        text(
            f"INSERT INTO play_period_delta ({_DELTA_COLUMNS}) VALUES (:u, :k, :p, :i, :plays, :ms)"
        ),
        [
            {"u": u, "k": k, "p": p, "i": i, "plays": plays, "ms": ms}
            for (u, k, p, i), (plays, ms) in summed.items()
        ],
    )
    await apply_delta(session, removes=sign < 0)


# --- members ----------------------------------------------------------------------------------


def _member_rows(users: str) -> str:
    return (
        "SELECT kind, period, item_id, plays, ms_played FROM user_play_periods"
        f" WHERE discord_user_id IN {users}"
        f" UNION ALL SELECT kind, {ALL_TIME}, item_id, plays, ms_played FROM play_totals"
        f" WHERE discord_user_id IN {users}"
    )


_USERS: BindParameter[list[int]] = bindparam("users", expanding=True)


async def _add_members(session: AsyncSession, guild_id: int, users: list[int], sign: int) -> None:
    """Add (1) or withdraw (-1) the users' rows to the guild's; the caller records them in
    or out of `guild_play_members`."""
    minus = "-" if sign < 0 else ""
    statement = text(
        "INSERT INTO guild_play_periods"
        " (guild_id, kind, period, item_id, plays, ms_played, listeners)"
        f" SELECT :guild, kind, period, item_id, {minus}SUM(plays), {minus}SUM(ms_played),"
        f" {minus}COUNT(*) FROM ({_member_rows(':users')}) AS r WHERE TRUE"
        " GROUP BY kind, period, item_id"
        " ON CONFLICT (guild_id, kind, period, item_id) DO UPDATE SET"
        " plays = guild_play_periods.plays + excluded.plays,"
        " ms_played = guild_play_periods.ms_played + excluded.ms_played,"
        " listeners = guild_play_periods.listeners + excluded.listeners"
    ).bindparams(_USERS)
    for part in _chunks(users):
        await session.execute(statement, {"guild": guild_id, "users": part})
        if sign < 0:
            await session.execute(
                text(
                    "DELETE FROM guild_play_periods WHERE guild_id = :guild AND listeners <= 0"
                    " AND (kind, period, item_id) IN"
                    f" (SELECT kind, period, item_id FROM ({_member_rows(':users')}) AS r)"
                ).bindparams(_USERS),
                {"guild": guild_id, "users": part},
            )


def _chunks(values: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


_COUNTED = (
    "SELECT guild_id, discord_user_id FROM guild_play_members WHERE discord_user_id IN :users"
)
_COUNTABLE = (
    "SELECT guild_id, discord_user_id FROM guild_members g WHERE discord_user_id IN :users"
    " AND NOT EXISTS (SELECT 1 FROM member_visibility v WHERE v.guild_id = g.guild_id"
    " AND v.discord_user_id = g.discord_user_id AND v.visible = :hidden)"
)


async def _move(
    session: AsyncSession, leaving: set[tuple[int, int]], joining: set[tuple[int, int]]
) -> None:
    for pairs, sign in ((leaving, -1), (joining, 1)):
        by_guild: dict[int, list[int]] = defaultdict(list)
        for guild_id, user in pairs:
            by_guild[guild_id].append(user)
        for guild_id, users in sorted(by_guild.items()):
            await _add_members(session, guild_id, users, sign)
            if sign < 0:
                await session.execute(
                    text(
                        "DELETE FROM guild_play_members WHERE guild_id = :guild"
                        " AND discord_user_id IN :users"
                    ).bindparams(_USERS),
                    {"guild": guild_id, "users": users},
                )
            else:
                await session.execute(
                    text(
                        "INSERT INTO guild_play_members (discord_user_id, guild_id)"
                        " VALUES (:user, :guild)"
                    ),
                    [{"user": user, "guild": guild_id} for user in users],
                )


async def sync_members(
    session: AsyncSession, discord_user_ids: Collection[int], guild_id: int | None = None
) -> None:
    """Make whose plays count (in `guild_id`, or everywhere) match memberships and visibility:
    after members were recorded or removed or changed their visibility."""
    if not discord_user_ids or await _window_day_as_writer(session) is None:
        return
    await session.flush()
    for part in _chunks(discord_user_ids):
        params = {"users": part, "guild": guild_id, "hidden": False}
        where = "" if guild_id is None else " AND guild_id = :guild"
        counted = {
            (int(g), int(u))
            for g, u in await session.execute(text(_COUNTED + where).bindparams(_USERS), params)
        }
        countable = {
            (int(g), int(u))
            for g, u in await session.execute(text(_COUNTABLE + where).bindparams(_USERS), params)
        }
        await _move(session, counted - countable, countable - counted)


async def forget_member(
    session: AsyncSession, discord_user_id: int, guild_id: int | None = None
) -> None:
    """Withdraw the member's plays (in `guild_id`, or everywhere) before their membership or
    visibility rows go."""
    if await _window_day_as_writer(session) is None:
        return
    where = "" if guild_id is None else " AND guild_id = :guild"
    counted = await session.execute(
        text(_COUNTED + where).bindparams(_USERS),
        {"users": [discord_user_id], "guild": guild_id},
    )
    await _move(session, {(int(g), int(u)) for g, u in counted}, set())


async def forget_guild(session: AsyncSession, guild_id: int) -> None:
    await session.execute(
        text("DELETE FROM guild_play_periods WHERE guild_id = :guild"), {"guild": guild_id}
    )
    await session.execute(
        text("DELETE FROM guild_play_members WHERE guild_id = :guild"), {"guild": guild_id}
    )


async def drop_plays(session: AsyncSession, discord_user_id: int) -> None:
    """Withdraw all of a user's plays from every guild and their period rows, before their
    `play_days` and `play_totals` are deleted (they stay counted, with nothing)."""
    if await _window_day_as_writer(session) is None:
        return
    guilds = await session.scalars(
        text("SELECT guild_id FROM guild_play_members WHERE discord_user_id = :user"),
        {"user": discord_user_id},
    )
    for guild_id in list(guilds):
        await _add_members(session, int(guild_id), [discord_user_id], -1)
    await session.execute(
        text("DELETE FROM user_play_periods WHERE discord_user_id = :user"),
        {"user": discord_user_id},
    )


# --- time -------------------------------------------------------------------------------------

_USERS_WITH_ROWS = """
WITH RECURSIVE users (id) AS (
  SELECT MIN(discord_user_id) FROM user_play_periods
  UNION ALL
  SELECT (SELECT MIN(discord_user_id) FROM user_play_periods WHERE discord_user_id > users.id)
  FROM users WHERE users.id IS NOT NULL
)
"""
_LEAVING = (
    _USERS_WITH_ROWS + f"INSERT INTO play_period_delta ({_DELTA_COLUMNS}) "
    "SELECT d.discord_user_id, d.kind, :period, d.item_id, -SUM(d.plays), -SUM(d.ms_played) "
    "FROM users JOIN play_days d ON d.discord_user_id = users.id AND d.kind IN (1, 2, 3) "
    "AND d.day >= :low AND d.day < :high "
    "GROUP BY d.discord_user_id, d.kind, d.item_id"
)
"""The days leaving a period's window, per user: one skip along `user_play_periods`' key for
the users, then a range of `play_days`' key per user and kind (no index by day is needed)."""


async def roll_periods(session: AsyncSession, today: int) -> None:
    """Move the windows to end on day `today` (days since 1970-01-01), subtracting the days
    that left them; build everything when never built. Takes the writers' locks."""
    await _become_writer(session)
    end = await window_day(session)
    if end is None:
        await rebuild(session, today)
        return
    if today <= end:
        return
    await prepare_delta(session)
    for period in ROLLING:
        await session.execute(
            text(_LEAVING),
            {"period": period, "low": end - period + 1, "high": today - period + 1},
        )
        if _dialect(session) == "postgresql":
            await session.execute(text("ANALYZE play_period_delta"))
        await apply_delta(session, removes=True)
    await _set_window_day(session, today)


async def ensure_current(session: AsyncSession, today: int | None = None) -> None:
    """Roll the windows to today when they are behind (one key lookup when current)."""
    today = today_number() if today is None else today
    end = await window_day(session)
    if end is None or end < today:
        await roll_periods(session, today)


_REBUILD_USERS = f"""
INSERT INTO user_play_periods ({_DELTA_COLUMNS})
SELECT d.discord_user_id, d.kind, p.period, d.item_id, SUM(d.plays), SUM(d.ms_played)
FROM play_days d JOIN {{periods}} AS p ON d.day >= p.first_day AND p.period <> 0
GROUP BY d.discord_user_id, d.kind, p.period, d.item_id
"""
_REBUILD_GUILDS = """
INSERT INTO guild_play_periods (guild_id, kind, period, item_id, plays, ms_played, listeners)
SELECT m.guild_id, r.kind, r.period, r.item_id, SUM(r.plays), SUM(r.ms_played), COUNT(*)
FROM (SELECT discord_user_id, kind, period, item_id, plays, ms_played FROM user_play_periods
      UNION ALL
      SELECT discord_user_id, kind, 0, item_id, plays, ms_played FROM play_totals) AS r
JOIN guild_play_members m ON m.discord_user_id = r.discord_user_id
GROUP BY m.guild_id, r.kind, r.period, r.item_id
"""


async def rebuild(session: AsyncSession, today: int) -> None:
    """Recompute every table here from `play_days`, `play_totals`, memberships and visibility,
    windows ending on `today` (a new or upgraded database, a repair, the bench's data)."""
    await _become_writer(session)
    for table in ("guild_play_periods", "user_play_periods", "guild_play_members"):
        await session.execute(text(f"DELETE FROM {table}"))
    await session.execute(
        text(
            "INSERT INTO guild_play_members (discord_user_id, guild_id)"
            " SELECT discord_user_id, guild_id FROM guild_members g WHERE NOT EXISTS"
            " (SELECT 1 FROM member_visibility v WHERE v.guild_id = g.guild_id"
            " AND v.discord_user_id = g.discord_user_id AND v.visible = :hidden)"
        ),
        {"hidden": False},
    )
    await session.execute(text(_REBUILD_USERS.format(periods=periods_sql(today))))
    await session.execute(text(_REBUILD_GUILDS))
    await _set_window_day(session, today)
