"""Stored responses of the Responses API (`POST /v1/responses`, `previous_response_id`).

Revision ID: 0006_stored_responses
Revises: 0005_quota_reservations
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_stored_responses"
down_revision: str | Sequence[str] | None = "0005_quota_reservations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_responses",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("input_items", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_responses")),
    )
    op.create_index(
        "ix_stored_responses_owner_created_at", "stored_responses", ["owner", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("stored_responses")
