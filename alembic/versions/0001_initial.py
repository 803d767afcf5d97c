"""Initial schema: links, OAuth states, guilds, catalog, top snapshots, shares, bot state.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "spotify_links",
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("spotify_account_id", sa.String(128), nullable=False),
        sa.Column("spotify_user_id", sa.String(128), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("access_token_enc", sa.LargeBinary(), nullable=False),
        sa.Column("refresh_token_enc", sa.LargeBinary(), nullable=False),
        sa.Column("access_expires_at", utc(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("authorized_at", utc(), nullable=False),
        sa.Column("linked_at", utc(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "broken",
                "revoked",
                "not_allowed",
                name="linkstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("synced_at", utc(), nullable=True),
        sa.Column("sync_due_at", utc(), nullable=True),
        sa.PrimaryKeyConstraint("discord_user_id", name="pk_spotify_links"),
        sa.UniqueConstraint("spotify_account_id", name="uq_spotify_links_spotify_account_id"),
    )
    op.create_index("ix_spotify_links_sync_due_at", "spotify_links", ["sync_due_at"])

    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("code_verifier_enc", sa.LargeBinary(), nullable=False),
        sa.Column("interaction_token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("application_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("expires_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name="pk_oauth_states"),
    )
    op.create_index("ix_oauth_states_discord_user_id", "oauth_states", ["discord_user_id"])
    op.create_index("ix_oauth_states_expires_at", "oauth_states", ["expires_at"])

    op.create_table(
        "guild_members",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.Column("seen_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "discord_user_id", name="pk_guild_members"),
    )
    op.create_index("ix_guild_members_discord_user_id", "guild_members", ["discord_user_id"])

    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("share_channel_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", name="pk_guild_settings"),
    )

    op.create_table(
        "catalog_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("spotify_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("subtitle", sa.String(512), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("album_spotify_id", sa.String(64), nullable=True),
        sa.Column("artist_spotify_ids", sa.Text(), nullable=True),
        sa.Column("updated_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_items"),
        sa.UniqueConstraint("kind", "spotify_id", name="uq_catalog_items_kind_spotify_id"),
    )

    op.create_table(
        "top_snapshots",
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("time_range", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("fetched_at", utc(), nullable=False),
        sa.Column("item_count", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["discord_user_id"],
            ["spotify_links.discord_user_id"],
            name="fk_top_snapshots_discord_user_id_spotify_links",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("discord_user_id", "kind", "time_range", name="pk_top_snapshots"),
    )

    op.create_table(
        "top_items",
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("time_range", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("rank", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["discord_user_id", "kind", "time_range"],
            [
                "top_snapshots.discord_user_id",
                "top_snapshots.kind",
                "top_snapshots.time_range",
            ],
            name="fk_top_items_snapshot",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["catalog_items.id"], name="fk_top_items_item_id_catalog_items"
        ),
        sa.PrimaryKeyConstraint(
            "discord_user_id", "kind", "time_range", "rank", name="pk_top_items"
        ),
    )
    op.create_index("ix_top_items_lookup", "top_items", ["kind", "time_range", "item_id"])

    op.create_table(
        "shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("sharer_id", sa.BigInteger(), nullable=False),
        sa.Column("uri", sa.String(128), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("save_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shares"),
    )
    op.create_index("ix_shares_guild_id", "shares", ["guild_id"])

    op.create_table(
        "share_saves",
        sa.Column("share_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("saved_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["shares.id"],
            name="fk_share_saves_share_id_shares",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("share_id", "discord_user_id", name="pk_share_saves"),
    )
    op.create_index("ix_share_saves_discord_user_id", "share_saves", ["discord_user_id"])

    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_bot_state"),
    )


def downgrade() -> None:
    for table in (
        "bot_state",
        "share_saves",
        "shares",
        "top_items",
        "top_snapshots",
        "catalog_items",
        "guild_settings",
        "guild_members",
        "oauth_states",
        "spotify_links",
    ):
        op.drop_table(table)
