"""Midjourney tasks (migration 0008): one row per task a client submitted through
`/mj/submit/*`, owned by the key's owner.

The row keeps the public task (what `/mj/task/{id}/fetch` answers) in columns, the upstream's
own id and channel (the upstream's task ids never leave here), what the submission cost and
whether that was refunded (set once, in the transaction that writes the refund's ledger row).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class MidjourneyTask(Base):
    __tablename__ = "mj_tasks"
    __table_args__ = (
        Index("ix_mj_tasks_owner_submit_time", "owner", "submit_time"),
        Index("ix_mj_tasks_finished_channel", "finished", "channel"),
        Index("ix_mj_tasks_channel_upstream_id", "channel", "upstream_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(100))
    upstream_id: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    progress: Mapped[str] = mapped_column(String(16), default="0%")
    prompt: Mapped[str] = mapped_column(Text, default="")
    prompt_en: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str | None] = mapped_column(Text, nullable=True)
    custom_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    fail_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    upstream_image_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    buttons: Mapped[str] = mapped_column(Text, default="[]")  # JSON, custom ids as upstream's
    properties: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    submit_time: Mapped[int] = mapped_column(BigInteger)  # ms since the epoch, as the protocol
    start_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finish_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    notify_hook: Mapped[str | None] = mapped_column(Text, nullable=True)
    price_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every change
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last progress
