"""Local models added at runtime through `POST /admin/models`, kept across restarts.

Revision ID: 0010_runtime_models
Revises: 0009_usage_detail
Create Date: 2026-12-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_runtime_models"
down_revision: str | Sequence[str] | None = "0009_usage_detail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runtime_models",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("model_path", sa.String(1000), nullable=False),
        sa.Column("keep_alive", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runtime_models")),
    )


def downgrade() -> None:
    op.drop_table("runtime_models")
