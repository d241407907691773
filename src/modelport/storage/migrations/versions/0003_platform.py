"""Platform: key limits and quotas, usage cost, redemption codes.

Revision ID: 0003_platform
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_platform"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key_columns() -> list[sa.Column[object]]:
    """Fresh column objects each time: a Column belongs to the first table it is added to."""
    return [
        sa.Column("quota_tokens", sa.BigInteger(), nullable=True),
        sa.Column("quota_micros", sa.BigInteger(), nullable=True),
        sa.Column("used_tokens", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("used_micros", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("allowed_models", sa.JSON(), nullable=True),
        sa.Column("allowed_kbs", sa.JSON(), nullable=True),
        sa.Column("rpm", sa.Integer(), nullable=True),
        sa.Column("tpm", sa.Integer(), nullable=True),
        sa.Column("group_multiplier", sa.Float(), nullable=False, server_default="1.0"),
    ]


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        for column in _key_columns():
            batch.add_column(column)
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(
            sa.Column("cost_micros", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "redemption_codes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("display", sa.String(32), nullable=False),
        sa.Column("batch", sa.String(100), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("micros", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(
            ["redeemed_by"], ["api_keys.id"], name=op.f("fk_redemption_codes_redeemed_by_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_redemption_codes_code_hash")),
    )
    op.create_index(op.f("ix_redemption_codes_batch"), "redemption_codes", ["batch"])


def downgrade() -> None:
    op.drop_table("redemption_codes")
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("cost_micros")
    with op.batch_alter_table("api_keys") as batch:
        for column in reversed(_key_columns()):
            batch.drop_column(column.name)
