"""Recording switches: a guild's /settings record_listening (off by default) and a member's
own /privacy record choice.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "guild_settings",
        sa.Column("record_listening", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "member_recording",
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.Boolean(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("discord_user_id", name="pk_member_recording"),
    )


def downgrade() -> None:
    op.drop_table("member_recording")
    with op.batch_alter_table("guild_settings", copy_from=_guild_settings()) as batch:
        batch.drop_column("record_listening")


def _guild_settings() -> sa.Table:
    """guild_settings as this revision leaves it, for SQLite's batch copy without reflection."""
    return sa.Table(
        "guild_settings",
        sa.MetaData(),
        sa.Column("guild_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("share_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("record_listening", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("guild_id", name="pk_guild_settings"),
    )
