"""Midjourney tasks submitted through the midjourney-proxy protocol (`/mj/...`).

Revision ID: 0008_mj_tasks
Revises: 0007_usage_details
Create Date: 2026-12-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_mj_tasks"
down_revision: str | Sequence[str] | None = "0007_usage_details"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mj_tasks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("upstream_id", sa.String(100), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("prompt_en", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("custom_id", sa.Text(), nullable=True),
        sa.Column("fail_reason", sa.Text(), nullable=True),
        sa.Column("upstream_image_url", sa.Text(), nullable=True),
        sa.Column("buttons", sa.Text(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column("submit_time", sa.BigInteger(), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=True),
        sa.Column("finish_time", sa.BigInteger(), nullable=True),
        sa.Column("notify_hook", sa.Text(), nullable=True),
        sa.Column("price_micros", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mj_tasks")),
    )
    op.create_index("ix_mj_tasks_owner_submit_time", "mj_tasks", ["owner", "submit_time"])
    op.create_index("ix_mj_tasks_finished_channel", "mj_tasks", ["finished", "channel"])
    op.create_index(
        "ix_mj_tasks_channel_upstream_id", "mj_tasks", ["channel", "upstream_id"], unique=True
    )


def downgrade() -> None:
    op.drop_table("mj_tasks")
