"""Member visibility apart from membership: a /privacy choice per guild in its own table, so it
survives leaving and rejoining (the membership row is deleted on leave). Hidden members are
carried over; "visible" was the default, so only hidden rows are explicit choices.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARRY_OVER = """
INSERT INTO member_visibility (guild_id, discord_user_id, visible, chosen_at)
SELECT guild_id, discord_user_id, visible, seen_at
FROM guild_members
WHERE visible = :hidden
"""

CARRY_BACK = """
UPDATE guild_members SET visible = NOT EXISTS (
    SELECT 1 FROM member_visibility
    WHERE member_visibility.guild_id = guild_members.guild_id
      AND member_visibility.discord_user_id = guild_members.discord_user_id
      AND member_visibility.visible = :hidden
)
"""


def guild_members(*visible: sa.Column[bool]) -> sa.Table:
    """guild_members with or without its `visible` column, for SQLite's batch copy (given, so
    that the migration can be rendered as SQL, where there is no table to reflect)."""
    return sa.Table(
        "guild_members",
        sa.MetaData(),
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        *visible,
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "discord_user_id", name="pk_guild_members"),
        sa.Index("ix_guild_members_discord_user_id", "discord_user_id"),
    )


def upgrade() -> None:
    op.create_table(
        "member_visibility",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "discord_user_id", name="pk_member_visibility"),
    )
    op.create_index(
        "ix_member_visibility_discord_user_id", "member_visibility", ["discord_user_id"]
    )
    op.execute(sa.text(CARRY_OVER).bindparams(hidden=False))
    with op.batch_alter_table(
        "guild_members", copy_from=guild_members(sa.Column("visible", sa.Boolean(), nullable=False))
    ) as batch:
        batch.drop_column("visible")


def downgrade() -> None:
    with op.batch_alter_table("guild_members", copy_from=guild_members()) as batch:
        batch.add_column(sa.Column("visible", sa.Boolean(), nullable=True))
    op.execute(sa.text(CARRY_BACK).bindparams(hidden=False))
    with op.batch_alter_table(
        "guild_members", copy_from=guild_members(sa.Column("visible", sa.Boolean(), nullable=True))
    ) as batch:
        batch.alter_column("visible", existing_type=sa.Boolean(), nullable=False)
    op.drop_index("ix_member_visibility_discord_user_id", table_name="member_visibility")
    op.drop_table("member_visibility")
