"""The request log (issue 18): each usage row says which channel served it (or last failed),
the channel's name, the account owning the key, and the time to first token; and the ledger
gets the indexes the log's filters need.

Indexes: the log pages newest first by (created_at, id), so every index ends with them: one
on (created_at, id) alone for the unfiltered log and time ranges, and one per filter column
leading with it (user, model, channel, status), so a filter combined with a time range reads
one contiguous range in the order the page wants. Keys keep `ix_usage_records_key_id_created_at`
(0003), which already serves them.

Data step: rows written before this revision get the account their key belongs to (0012 gave
every key one), so a user's log and the user filter include them; their channel and time to
first token were never known and stay NULL (the log shows them blank).

Revision ID: 0013_request_log
Revises: 0012_users
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_request_log"
down_revision: str | Sequence[str] | None = "0012_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name → columns; the names are the ORM's (storage/tables.py UsageRecord.__table_args__)
INDEXES = {
    "ix_usage_records_created_at_id": ["created_at", "id"],
    "ix_usage_records_user_id_created_at": ["user_id", "created_at", "id"],
    "ix_usage_records_model_created_at": ["model", "created_at", "id"],
    "ix_usage_records_channel_created_at": ["channel", "created_at", "id"],
    "ix_usage_records_status_created_at": ["status", "created_at", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("channel", sa.String(100), nullable=True))
        batch.add_column(sa.Column("channel_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("user_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("ttft_ms", sa.Integer(), nullable=True))
    keys = sa.table("api_keys", sa.column("id", sa.String), sa.column("user_id", sa.String))
    usage = sa.table("usage_records", sa.column("key_id", sa.String), sa.column("user_id"))
    owner = sa.select(keys.c.user_id).where(keys.c.id == usage.c.key_id).scalar_subquery()
    op.execute(sa.update(usage).values(user_id=owner))
    for name, columns in INDEXES.items():  # after the update: it need not maintain them
        op.create_index(name, "usage_records", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="usage_records")
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("ttft_ms")
        batch.drop_column("user_id")
        batch.drop_column("channel_name")
        batch.drop_column("channel")
