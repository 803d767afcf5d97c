"""Plays: one row per play of a Discord user, the catalog's track details, artist credits and
name lookups for items known only by name, and the per-day and all-time aggregates rankings read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _item_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["catalog_items.id"], name=f"fk_{table}_{column}_catalog_items"
    )


def upgrade() -> None:
    op.create_table(
        "plays",
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("track_item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ms_played", sa.Integer(), nullable=False),
        sa.Column("source", sa.SmallInteger(), nullable=False),
        _item_fk("track_item_id", "plays"),
        sa.PrimaryKeyConstraint("discord_user_id", "started_at", "track_item_id", name="pk_plays"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "catalog_tracks",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("album_item_id", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        _item_fk("item_id", "catalog_tracks"),
        _item_fk("album_item_id", "catalog_tracks"),
        sa.PrimaryKeyConstraint("item_id", name="pk_catalog_tracks"),
    )
    op.create_index("ix_catalog_tracks_album_item_id", "catalog_tracks", ["album_item_id"])
    op.create_table(
        "track_artists",
        sa.Column("track_item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("artist_item_id", sa.Integer(), nullable=False),
        _item_fk("track_item_id", "track_artists"),
        _item_fk("artist_item_id", "track_artists"),
        sa.PrimaryKeyConstraint("track_item_id", "position", name="pk_track_artists"),
    )
    op.create_index("ix_track_artists_artist_item_id", "track_artists", ["artist_item_id"])
    op.create_table(
        "catalog_names",
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("name_key", sa.String(32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        _item_fk("item_id", "catalog_names"),
        sa.PrimaryKeyConstraint("kind", "name_key", name="pk_catalog_names"),
    )
    op.create_index("ix_catalog_names_item_id", "catalog_names", ["item_id"])
    op.create_table(
        "play_days",
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("ms_played", sa.BigInteger(), nullable=False),
        _item_fk("item_id", "play_days"),
        sa.PrimaryKeyConstraint("discord_user_id", "kind", "day", "item_id", name="pk_play_days"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_play_days_item", "play_days", ["kind", "item_id", "day", "discord_user_id"])
    op.create_table(
        "play_totals",
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("ms_played", sa.BigInteger(), nullable=False),
        _item_fk("item_id", "play_totals"),
        sa.PrimaryKeyConstraint("discord_user_id", "kind", "item_id", name="pk_play_totals"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_play_totals_item", "play_totals", ["kind", "item_id"])


def downgrade() -> None:
    for table in (
        "play_totals",
        "play_days",
        "catalog_names",
        "track_artists",
        "catalog_tracks",
        "plays",
    ):
        op.drop_table(table)
