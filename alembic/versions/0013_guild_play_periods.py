"""Per-guild play boards: which members' plays count in which guild, each user's plays per item
over the rolling periods (7, 30, 365 days), and each guild's plays and listeners per item and
period (0: all time). The tables start empty: the first read or the daily rollover builds them
from `play_days` and `play_totals` (bot/store/guild_plays.py `ensure_current`).

Revision ID: 0013
Revises: 0011 (the lead rechains it after 0012)
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "guild_play_members",
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("discord_user_id", "guild_id", name="pk_guild_play_members"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_guild_play_members_guild_id", "guild_play_members", ["guild_id"])
    op.create_table(
        "user_play_periods",
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("period", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("ms_played", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "discord_user_id", "kind", "period", "item_id", name="pk_user_play_periods"
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_user_play_periods_item", "user_play_periods", ["kind", "period", "item_id"])
    op.create_table(
        "guild_play_periods",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("period", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column("ms_played", sa.BigInteger(), nullable=False),
        sa.Column("listeners", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "guild_id", "kind", "period", "item_id", name="pk_guild_play_periods"
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_guild_play_periods_board",
        "guild_play_periods",
        ["guild_id", "kind", "period", sa.text("plays DESC"), sa.text("listeners DESC"), "item_id"],
    )


def downgrade() -> None:
    op.execute("DELETE FROM bot_state WHERE key = 'play_periods_day'")
    op.drop_index("ix_guild_play_periods_board", table_name="guild_play_periods")
    op.drop_table("guild_play_periods")
    op.drop_index("ix_user_play_periods_item", table_name="user_play_periods")
    op.drop_table("user_play_periods")
    op.drop_index("ix_guild_play_members_guild_id", table_name="guild_play_members")
    op.drop_table("guild_play_members")
