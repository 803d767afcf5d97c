"""Spotify limits shared by every process: the background sync's grant schedule, the
commands' request count per window and the 429 cooldown, one row per app.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spotify_limits",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("sync_next_at", sa.Float(), nullable=False),
        sa.Column("interactive_window", sa.BigInteger(), nullable=False),
        sa.Column("interactive_used", sa.Integer(), nullable=False),
        sa.Column("cooldown_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_spotify_limits"),
    )


def downgrade() -> None:
    op.drop_table("spotify_limits")
