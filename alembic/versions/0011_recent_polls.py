"""Recently-played polling: per linked member, the `after` cursor (Unix ms), when they were last
polled and when they are due (also the claim's lease), and when a member linked before the
listening scopes was told once by a history command to /link again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("recent_after_ms", "recent_polled_at", "recent_due_at", "relink_noticed_at")


def upgrade() -> None:
    op.add_column("spotify_links", sa.Column("recent_after_ms", sa.BigInteger(), nullable=True))
    op.add_column(
        "spotify_links", sa.Column("recent_polled_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "spotify_links", sa.Column("recent_due_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "spotify_links", sa.Column("relink_noticed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_spotify_links_recent_due_at", "spotify_links", ["recent_due_at"])


def downgrade() -> None:
    op.drop_index("ix_spotify_links_recent_due_at", table_name="spotify_links")
    with op.batch_alter_table("spotify_links") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
