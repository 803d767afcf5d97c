"""Import links: a member's one-time link to the /import upload page, stored as a hash of its
token with the /import interaction token (encrypted) so the reply can show the result.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column("member_name", sa.String(100), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("interaction_token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("application_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_import_links"),
        sa.UniqueConstraint("discord_user_id", name="uq_import_links_discord_user_id"),
    )
    op.create_index("ix_import_links_expires_at", "import_links", ["expires_at"])


def downgrade() -> None:
    op.drop_table("import_links")
