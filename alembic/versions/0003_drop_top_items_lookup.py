"""Drop ix_top_items_lookup: (kind, time_range, item_id) is a prefix of ix_top_items_item_rank,
which serves every query the smaller index did, so it only cost writes and space (every
snapshot replacement rewrote both).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_top_items_lookup", table_name="top_items")


def downgrade() -> None:
    op.create_index("ix_top_items_lookup", "top_items", ["kind", "time_range", "item_id"])
