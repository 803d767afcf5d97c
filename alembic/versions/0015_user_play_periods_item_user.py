"""`ix_user_play_periods_item` gains the user: (kind, period, item, user).

The per-guild boards' upkeep looks up each changed user row by its whole key. With the index
on (kind, period, item) alone, PostgreSQL sometimes probed it instead of the primary key and
walked every listener of the item for each row: 3.3 s for one batch of 3,000 recent plays
(bench/play_rankings.py --day-batch 3000). With the user in it either index finds the row
exactly. On SQLite (WITHOUT ROWID) the entries already carried the user: same size.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_user_play_periods_item", table_name="user_play_periods")
    op.create_index(
        "ix_user_play_periods_item",
        "user_play_periods",
        ["kind", "period", "item_id", "discord_user_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_user_play_periods_item", table_name="user_play_periods")
    op.create_index("ix_user_play_periods_item", "user_play_periods", ["kind", "period", "item_id"])
