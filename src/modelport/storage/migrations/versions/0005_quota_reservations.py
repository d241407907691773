"""Quota reservations: what requests in flight hold against their key's quota.

Revision ID: 0005_quota_reservations
Revises: 0004_usage_flags
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_quota_reservations"
down_revision: str | Sequence[str] | None = "0004_usage_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("reserved_tokens", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("reserved_micros", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "quota_reservations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("micros", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
            name=op.f("fk_quota_reservations_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_reservations")),
    )
    op.create_index(op.f("ix_quota_reservations_key_id"), "quota_reservations", ["key_id"])
    op.create_index(op.f("ix_quota_reservations_expires_at"), "quota_reservations", ["expires_at"])


def downgrade() -> None:
    op.drop_table("quota_reservations")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("reserved_micros")
        batch.drop_column("reserved_tokens")
