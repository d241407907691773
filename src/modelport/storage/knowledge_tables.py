"""ORM tables for uploaded files, knowledge bases and the files attached to them.

Ingestion state lives on the attachment (`KnowledgeBaseFile`), because one file may be
indexed into several knowledge bases, each with its own split configuration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class StoredFile(Base):
    """An upload: its metadata here, its bytes under the data dir by SHA-256."""

    __tablename__ = "uploaded_files"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeBase(Base):
    """A named group of files searched together; `separators` is a JSON array (or null)."""

    __tablename__ = "knowledge_bases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(100))
    split_type: Mapped[str] = mapped_column(String(32))
    chunk_max_len: Mapped[int] = mapped_column(Integer)
    chunk_overlap_len: Mapped[int] = mapped_column(Integer)
    separators: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeBaseFile(Base):
    """A file attached to a knowledge base and where its ingestion stands."""

    __tablename__ = "knowledge_base_files"
    __table_args__ = (Index("ix_knowledge_base_files_status", "status"),)

    kb_id: Mapped[str] = mapped_column(ForeignKey("knowledge_bases.id"), primary_key=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("uploaded_files.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # init | parsing | online | fail
    reason: Mapped[str | None] = mapped_column(Text)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
