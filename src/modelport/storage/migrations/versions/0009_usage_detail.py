"""Usage records say what a request not counted in tokens bought (`detail`): how many images
of which size and quality, which Midjourney task, which task a refund is for.

Revision ID: 0009_usage_detail
Revises: 0008_mj_tasks
Create Date: 2026-12-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_usage_detail"
down_revision: str | Sequence[str] | None = "0008_mj_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("detail", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("detail")
