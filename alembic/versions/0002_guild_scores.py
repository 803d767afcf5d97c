"""Guild scores: per-guild counted lists and item scores behind leaderboards and who-knows,
and an index that reads an item's listeners in rank order.

Existing snapshots are counted in the same step, so leaderboards are complete right away.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNT_MEMBERS = """
INSERT INTO guild_score_members (guild_id, kind, time_range, discord_user_id, fetched_at, points)
SELECT gm.guild_id, s.kind, s.time_range, s.discord_user_id, s.fetched_at,
       COALESCE(SUM(51 - t.rank), 0)
FROM top_snapshots s
JOIN guild_members gm ON gm.discord_user_id = s.discord_user_id
JOIN spotify_links l ON l.discord_user_id = s.discord_user_id
LEFT JOIN top_items t ON t.discord_user_id = s.discord_user_id AND t.kind = s.kind
    AND t.time_range = s.time_range AND t.rank <= 50
WHERE gm.visible = TRUE AND l.status = 'active'
GROUP BY gm.guild_id, s.kind, s.time_range, s.discord_user_id, s.fetched_at
"""

SCORE_ITEMS = """
INSERT INTO guild_item_scores (guild_id, kind, time_range, item_id, points, listeners, sort_name)
SELECT m.guild_id, t.kind, t.time_range, t.item_id, SUM(51 - t.rank), COUNT(*), c.name
FROM guild_score_members m
JOIN top_items t ON t.discord_user_id = m.discord_user_id AND t.kind = m.kind
    AND t.time_range = m.time_range AND t.rank <= 50
JOIN catalog_items c ON c.id = t.item_id
GROUP BY m.guild_id, t.kind, t.time_range, t.item_id, c.name
"""


def upgrade() -> None:
    op.create_table(
        "guild_score_members",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("time_range", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id", "discord_user_id"],
            ["guild_members.guild_id", "guild_members.discord_user_id"],
            name="fk_guild_score_members_member",
        ),
        sa.ForeignKeyConstraint(
            ["discord_user_id", "kind", "time_range"],
            [
                "top_snapshots.discord_user_id",
                "top_snapshots.kind",
                "top_snapshots.time_range",
            ],
            name="fk_guild_score_members_snapshot",
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "kind", "time_range", "discord_user_id", name="pk_guild_score_members"
        ),
    )
    op.create_index(
        "ix_guild_score_members_discord_user_id", "guild_score_members", ["discord_user_id"]
    )
    op.create_index(
        "ix_guild_score_members_freshness",
        "guild_score_members",
        ["guild_id", "kind", "time_range", "fetched_at"],
    )

    op.create_table(
        "guild_item_scores",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("time_range", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("listeners", sa.Integer(), nullable=False),
        sa.Column("sort_name", sa.String(512), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["catalog_items.id"], name="fk_guild_item_scores_item_id_catalog_items"
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "kind", "time_range", "item_id", name="pk_guild_item_scores"
        ),
    )
    op.create_index("ix_guild_item_scores_item_id", "guild_item_scores", ["item_id"])
    op.create_index(
        "ix_guild_item_scores_board",
        "guild_item_scores",
        [
            "guild_id",
            "kind",
            "time_range",
            sa.text("points DESC"),
            sa.text("listeners DESC"),
            "sort_name",
            "item_id",
        ],
    )

    op.create_index(
        "ix_top_items_item_rank",
        "top_items",
        ["kind", "time_range", "item_id", "rank", "discord_user_id"],
    )

    op.execute(COUNT_MEMBERS)
    op.execute(SCORE_ITEMS)


def downgrade() -> None:
    op.drop_index("ix_top_items_item_rank", table_name="top_items")
    op.drop_table("guild_item_scores")
    op.drop_table("guild_score_members")
