"""SQLAlchemy models. Every change here comes with an alembic migration.

Snapshots stay narrow: a member's top items are rows of small integers pointing
into `catalog_items`, so 10k members x 6 lists x 50 ranks stays cheap to scan.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

from bot.domain import LinkStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL.

    Values are converted to UTC before binding: SQLite stores the wall-clock time without its
    offset, so anything else would come back shifted (and compare wrongly as text).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SpotifyLink(Base):
    """A Discord member's link to one Spotify account. Tokens are Fernet ciphertext."""

    __tablename__ = "spotify_links"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    spotify_account_id: Mapped[str] = mapped_column(String(128), unique=True)
    spotify_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(256))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    access_token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    refresh_token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scopes: Mapped[str] = mapped_column(Text, default="")
    authorized_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[LinkStatus] = mapped_column(
        Enum(
            LinkStatus,
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda members: [m.value for m in members],
        ),
        default=LinkStatus.ACTIVE,
    )
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sync_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    recent_after_ms: Mapped[int | None] = mapped_column(BigInteger)
    """Recently-played cursor: the newest `played_at` stored (Unix ms)."""
    recent_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recent_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    """When recently-played is polled next; moved forward by a lease while it is."""
    relink_noticed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When a history command told a member linked before the listening scopes to /link again."""


class OAuthState(Base):
    """A pending /link. Only a hash of `state` is stored; the row is deleted when used. The
    member's and guild's names are shown on the /link page, so whoever opens it sees whom
    it links."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    discord_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    code_verifier_enc: Mapped[bytes] = mapped_column(LargeBinary)
    interaction_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    application_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    member_name: Mapped[str | None] = mapped_column(String(100))
    guild_name: Mapped[str | None] = mapped_column(String(100))
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    """Hash of the secret in the cookie of the first browser that opened the /link page."""


class ImportLink(Base):
    """A member's /import link: only a hash of its token is stored, one link per member (a new
    /import replaces it). `used_at` is set when an import through it completes."""

    __tablename__ = "import_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    discord_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    member_name: Mapped[str] = mapped_column(String(100))
    guild_id: Mapped[int | None] = mapped_column(BigInteger)
    interaction_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    application_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GuildMember(Base):
    """A member seen in a guild. The row is deleted when they leave."""

    __tablename__ = "guild_members"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    discord_user_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, index=True
    )
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberVisibility(Base):
    """A member's /privacy choice in one guild (no row: visible).

    Kept apart from `guild_members`, whose row goes when the member leaves, so the choice
    survives leaving and rejoining. Deleted only when the member asks Encore to forget them.
    """

    __tablename__ = "member_visibility"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    discord_user_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, index=True
    )
    visible: Mapped[bool] = mapped_column(Boolean)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GuildSettings(Base):
    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    share_channel_id: Mapped[int | None] = mapped_column(BigInteger)
    record_listening: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MemberRecording(Base):
    """A member's own /privacy record choice, for every guild (no row: recorded where the
    guild records). Kept on /unlink: it is about Discord listening, not the Spotify link."""

    __tablename__ = "member_recording"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record: Mapped[bool] = mapped_column(Boolean)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CatalogItem(Base):
    """Just enough about an artist, track or album to render it without asking Spotify."""

    __tablename__ = "catalog_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[int] = mapped_column(SmallInteger)
    spotify_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(512))
    subtitle: Mapped[str | None] = mapped_column(String(512))
    image_url: Mapped[str | None] = mapped_column(Text)
    album_spotify_id: Mapped[str | None] = mapped_column(String(64))
    artist_spotify_ids: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("kind", "spotify_id", name="uq_catalog_items_kind_spotify_id"),
    )


class TopSnapshot(Base):
    """When a member's top list for one kind and range was last fetched."""

    __tablename__ = "top_snapshots"

    discord_user_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("spotify_links.discord_user_id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    time_range: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    item_count: Mapped[int] = mapped_column(SmallInteger, default=0)


class TopItem(Base):
    """One ranked entry of a member's top list (rank 1 is the favourite)."""

    __tablename__ = "top_items"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    time_range: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(Integer, ForeignKey("catalog_items.id"))

    __table_args__ = (
        ForeignKeyConstraint(
            ["discord_user_id", "kind", "time_range"],
            [
                "top_snapshots.discord_user_id",
                "top_snapshots.kind",
                "top_snapshots.time_range",
            ],
            ondelete="CASCADE",
            name="fk_top_items_snapshot",
        ),
    )


class Share(Base):
    """A track/album/artist/... posted to a channel with Save or Follow buttons."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    sharer_id: Mapped[int] = mapped_column(BigInteger)
    uri: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(String(512))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    save_count: Mapped[int] = mapped_column(Integer, default=0)


class ShareSave(Base):
    """Who saved a share with its button, so a second click is not counted twice."""

    __tablename__ = "share_saves"

    share_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("shares.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    discord_user_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, index=True
    )
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotState(Base):
    """Small key/value facts the bot keeps between runs (e.g. the synced command hash)."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class GuildScoreMember(Base):
    """A member whose top list for one kind and range currently counts in a guild's scores.

    A row exists exactly while the member is in the guild, visible there, actively linked and
    has that snapshot; `points` is what the list adds in total (see bot/store/scores.py).
    The foreign keys have no cascade on purpose: deleting a member, link, membership or
    snapshot before withdrawing it from the scores fails loudly instead of leaving them stale.
    """

    __tablename__ = "guild_score_members"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    time_range: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    discord_user_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, index=True
    )
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    points: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        ForeignKeyConstraint(
            ["guild_id", "discord_user_id"],
            ["guild_members.guild_id", "guild_members.discord_user_id"],
            name="fk_guild_score_members_member",
        ),
        ForeignKeyConstraint(
            ["discord_user_id", "kind", "time_range"],
            [
                "top_snapshots.discord_user_id",
                "top_snapshots.kind",
                "top_snapshots.time_range",
            ],
            name="fk_guild_score_members_snapshot",
        ),
        Index("ix_guild_score_members_freshness", "guild_id", "kind", "time_range", "fetched_at"),
    )


class GuildItemScore(Base):
    """An item's rank-weighted score and listener count among a guild's counted members.

    `sort_name` copies the catalog name so that a leaderboard page, ties included, is one
    range of `ix_guild_item_scores_board` at any offset.
    """

    __tablename__ = "guild_item_scores"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    time_range: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("catalog_items.id"), primary_key=True, autoincrement=False, index=True
    )
    points: Mapped[int] = mapped_column(Integer)
    listeners: Mapped[int] = mapped_column(Integer)
    sort_name: Mapped[str] = mapped_column(String(512))


Index(
    "ix_guild_item_scores_board",
    GuildItemScore.guild_id,
    GuildItemScore.kind,
    GuildItemScore.time_range,
    GuildItemScore.points.desc(),
    GuildItemScore.listeners.desc(),
    GuildItemScore.sort_name,
    GuildItemScore.item_id,
)


class GuildBoardSize(Base):
    """How many items a guild's board (one kind, one range) holds: its `guild_item_scores` rows.

    Kept by score upkeep with the scores themselves, so a leaderboard page never counts a
    board of a million tracks to say how many pages there are.
    """

    __tablename__ = "guild_board_sizes"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    time_range: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    item_count: Mapped[int] = mapped_column(Integer)


class SpotifyLimits(Base):
    """Spotify's per-app rate limit, shared by every process of a deployment (one row per app).

    Times are Unix seconds (every process's own clock, kept in step by NTP). `sync_next_at` is
    when the next background request may go (grants are spaced evenly and claimed a few at a
    time); `interactive_used` counts commands' requests in the fixed window
    `interactive_window` (Unix seconds // window); `cooldown_until` is the end of the longest
    Retry-After any process was given.
    """

    __tablename__ = "spotify_limits"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    sync_next_at: Mapped[float] = mapped_column(Float, default=0.0)
    interactive_window: Mapped[int] = mapped_column(BigInteger, default=0)
    interactive_used: Mapped[int] = mapped_column(Integer, default=0)
    cooldown_until: Mapped[float] = mapped_column(Float, default=0.0)


# Who-knows reads an item's listeners in rank order straight from this index, and stops early.
Index(
    "ix_top_items_item_rank",
    TopItem.kind,
    TopItem.time_range,
    TopItem.item_id,
    TopItem.rank,
    TopItem.discord_user_id,
)


# --- plays (see bot/store/plays.py for the why of these tables) -----------------------------


class Play(Base):
    """One play of a track by a Discord user, from any source. The key makes re-recording
    the same play a no-op; rankings never read this table, only the aggregates below."""

    __tablename__ = "plays"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    track_item_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("catalog_items.id"), primary_key=True, autoincrement=False
    )
    ms_played: Mapped[int] = mapped_column(Integer)
    source: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = ({"sqlite_with_rowid": False},)


class CatalogTrack(Base):
    """What plays need to know of a catalog track beyond `catalog_items`: album and length."""

    __tablename__ = "catalog_tracks"

    item_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("catalog_items.id"), primary_key=True, autoincrement=False
    )
    album_item_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("catalog_items.id"), index=True
    )
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class TrackArtist(Base):
    """A track's artists in credit order (position 0 is the primary artist)."""

    __tablename__ = "track_artists"

    track_item_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("catalog_items.id"), primary_key=True, autoincrement=False
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    artist_item_id: Mapped[int] = mapped_column(Integer, ForeignKey("catalog_items.id"), index=True)


class CatalogName(Base):
    """Which catalog item a normalised name stands for (`name_key` is its digest): how a play
    known only by names finds its artist, track or album."""

    __tablename__ = "catalog_names"

    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, ForeignKey("catalog_items.id"), index=True)


class PlayDay(Base):
    """A user's plays of one artist, track or album on one UTC day (`day`: days since
    1970-01-01), kept with every insert and delete of plays."""

    __tablename__ = "play_days"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("catalog_items.id"), primary_key=True, autoincrement=False
    )
    plays: Mapped[int] = mapped_column(Integer)
    ms_played: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        # Partial on track rows on PostgreSQL too (migration 0014): `postgresql_where` here
        # would load SQLAlchemy's PostgreSQL dialect into every process, SQLite ones included.
        Index(
            "ix_play_days_track", "item_id", "day", "discord_user_id", sqlite_where=text("kind = 2")
        ),
        {"sqlite_with_rowid": False},
    )


class PlayTotal(Base):
    """A user's all-time plays of one artist, track or album: `play_days` summed, so all-time
    rankings and play counts read one row per item. `ix_play_totals_item` is ordered by plays:
    an item's top listeners (crowns) are a walk from the end of its range."""

    __tablename__ = "play_totals"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("catalog_items.id"), primary_key=True, autoincrement=False
    )
    plays: Mapped[int] = mapped_column(Integer)
    ms_played: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_play_totals_item", "kind", "item_id", "plays"),
        {"sqlite_with_rowid": False},
    )


class GuildPlayMember(Base):
    """A member whose plays currently count in a guild's play boards (`guild_play_periods`):
    a row exists exactly while they are a member there and not hidden (bot/store/guild_plays.py)."""

    __tablename__ = "guild_play_members"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)

    __table_args__ = (
        Index("ix_guild_play_members_guild_id", "guild_id"),
        {"sqlite_with_rowid": False},
    )


class UserPlayPeriod(Base):
    """A user's plays of one item over a rolling period (`period`: its length in days, 7, 30
    or 365) ending on the stored window day: `play_days` summed over the window."""

    __tablename__ = "user_play_periods"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    period: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plays: Mapped[int] = mapped_column(Integer)
    ms_played: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_user_play_periods_item", "kind", "period", "item_id", "discord_user_id"),
        {"sqlite_with_rowid": False},
    )


class GuildPlayPeriod(Base):
    """A guild's plays of one item over a period (7, 30, 365 days, or 0: all time), summed over
    its counted members (`guild_play_members`), with how many of them played it."""

    __tablename__ = "guild_play_periods"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    period: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    item_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plays: Mapped[int] = mapped_column(Integer)
    ms_played: Mapped[int] = mapped_column(BigInteger)
    listeners: Mapped[int] = mapped_column(Integer)

    __table_args__ = ({"sqlite_with_rowid": False},)


Index(
    "ix_guild_play_periods_board",
    GuildPlayPeriod.guild_id,
    GuildPlayPeriod.kind,
    GuildPlayPeriod.period,
    GuildPlayPeriod.plays.desc(),
    GuildPlayPeriod.listeners.desc(),
    GuildPlayPeriod.item_id,
)
