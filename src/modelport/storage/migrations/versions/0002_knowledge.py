"""Uploaded files, knowledge bases and their attachments with ingestion status.

Revision ID: 0002_knowledge
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_knowledge"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uploaded_files",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploaded_files")),
    )
    op.create_index(op.f("ix_uploaded_files_owner"), "uploaded_files", ["owner"])
    op.create_index(op.f("ix_uploaded_files_sha256"), "uploaded_files", ["sha256"])
    op.create_table(
        "knowledge_bases",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("description", sa.String(100), nullable=False),
        sa.Column("split_type", sa.String(32), nullable=False),
        sa.Column("chunk_max_len", sa.Integer(), nullable=False),
        sa.Column("chunk_overlap_len", sa.Integer(), nullable=False),
        sa.Column("separators", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_bases")),
    )
    op.create_index(op.f("ix_knowledge_bases_owner"), "knowledge_bases", ["owner"])
    op.create_table(
        "knowledge_base_files",
        sa.Column("kb_id", sa.String(40), nullable=False),
        sa.Column("file_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kb_id"],
            ["knowledge_bases.id"],
            name=op.f("fk_knowledge_base_files_kb_id_knowledge_bases"),
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["uploaded_files.id"],
            name=op.f("fk_knowledge_base_files_file_id_uploaded_files"),
        ),
        sa.PrimaryKeyConstraint("kb_id", "file_id", name=op.f("pk_knowledge_base_files")),
    )
    op.create_index("ix_knowledge_base_files_status", "knowledge_base_files", ["status"])


def downgrade() -> None:
    op.drop_table("knowledge_base_files")
    op.drop_table("knowledge_bases")
    op.drop_table("uploaded_files")
