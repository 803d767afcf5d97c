"""Pending /link states name the member and guild they link, and hold the hash of the
browser-binding secret of the first browser that opened them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_states") as batch:
        batch.add_column(sa.Column("member_name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("guild_name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("browser_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_states") as batch:
        batch.drop_column("browser_hash")
        batch.drop_column("guild_name")
        batch.drop_column("member_name")
