"""Usage records keep the breakdowns vendors report: of the prompt tokens, those read from the
vendor's prompt cache (`cached_tokens`, priced at the model's `cached_prompt` price), and of the
completion tokens, those spent reasoning (`reasoning_tokens`).

Revision ID: 0007_usage_details
Revises: 0006_stored_responses
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_usage_details"
down_revision: str | Sequence[str] | None = "0006_stored_responses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(
            sa.Column("cached_tokens", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("reasoning_tokens")
        batch.drop_column("cached_tokens")
