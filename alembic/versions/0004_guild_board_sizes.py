"""Guild board sizes: the number of scored items per guild, kind and range, kept by score
upkeep, so a leaderboard page does not count its whole board. Filled from the scores already
stored.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILL = """
INSERT INTO guild_board_sizes (guild_id, kind, time_range, item_count)
SELECT guild_id, kind, time_range, COUNT(*)
FROM guild_item_scores
GROUP BY guild_id, kind, time_range
"""


def upgrade() -> None:
    op.create_table(
        "guild_board_sizes",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("time_range", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "kind", "time_range", name="pk_guild_board_sizes"),
    )
    op.execute(FILL)


def downgrade() -> None:
    op.drop_table("guild_board_sizes")
