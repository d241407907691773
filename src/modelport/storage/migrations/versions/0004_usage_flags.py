"""Usage records say how many web searches a request made (billed per search) and whether its
token counts are estimates (an upstream that reported none). Also joins the 0002/0003 heads.

Revision ID: 0004_usage_flags
Revises: 0002_knowledge, 0003_platform
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_usage_flags"
down_revision: str | Sequence[str] | None = ("0002_knowledge", "0003_platform")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("searches", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("estimated", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("estimated")
        batch.drop_column("searches")
