"""`ix_play_totals_item` gains `plays`: an artist's top listeners (crowns, /whoknows all time)
are a walk down the index from the most plays instead of reading every listener's row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_play_totals_item", table_name="play_totals")
    op.create_index("ix_play_totals_item", "play_totals", ["kind", "item_id", "plays"])


def downgrade() -> None:
    op.drop_index("ix_play_totals_item", table_name="play_totals")
    op.create_index("ix_play_totals_item", "play_totals", ["kind", "item_id"])
