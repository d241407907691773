"""Upstream channels managed at runtime, and the change stamp replicas watch.

Revision ID: 0011_channels
Revises: 0010_runtime_models
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_channels"
down_revision: str | Sequence[str] | None = "0010_runtime_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=True),
        sa.Column("api_keys", sa.JSON(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("model_mapping", sa.JSON(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=True),
        sa.Column("proxy", sa.String(500), nullable=True),
        sa.Column("connect_timeout", sa.Float(), nullable=False),
        sa.Column("read_timeout", sa.Float(), nullable=False),
        sa.Column("first_token_timeout", sa.Float(), nullable=True),
        sa.Column("idle_timeout", sa.Float(), nullable=True),
        sa.Column("price", sa.JSON(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.String(500), nullable=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_probe", sa.Boolean(), nullable=False),
        sa.Column("balance_kind", sa.String(32), nullable=True),
        sa.Column("balance", sa.String(40), nullable=True),
        sa.Column("balance_currency", sa.String(16), nullable=True),
        sa.Column("balance_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_test_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_test_ms", sa.Integer(), nullable=True),
        sa.Column("last_test_error", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
    )
    op.create_table(
        "change_stamps",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_stamps")),
    )


def downgrade() -> None:
    op.drop_table("change_stamps")
    op.drop_table("channels")
