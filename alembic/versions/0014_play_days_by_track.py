"""`ix_play_days_item` (every kind) becomes `ix_play_days_track`, partial on track rows.

Rankings never read day rows by item (per-guild boards and `play_totals` serve them); only
re-crediting a track and merging an artist or album do, and the rows of an artist or album
are found through the days of its tracks. An index over every kind cost an import more than
the table it indexes: a third of its rows, a third of the upkeep and the space.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRACK_ROWS = sa.text("kind = 2")


def upgrade() -> None:
    op.drop_index("ix_play_days_item", table_name="play_days")
    op.create_index(
        "ix_play_days_track",
        "play_days",
        ["item_id", "day", "discord_user_id"],
        sqlite_where=TRACK_ROWS,
        postgresql_where=TRACK_ROWS,
    )


def downgrade() -> None:
    op.drop_index("ix_play_days_track", table_name="play_days")
    op.create_index("ix_play_days_item", "play_days", ["kind", "item_id", "day", "discord_user_id"])
