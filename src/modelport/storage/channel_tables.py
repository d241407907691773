"""Upstream channels managed at runtime (`/admin/channels`, migration 0011), and the change
stamp replicas watch to know when to reload them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class Channel(Base):
    """One upstream account serving a list of public models (one-api's channel).

    The keys are stored as given: the platform must send them upstream, so a hash would not
    do; the admin API shows them masked once saved.
    """

    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str | None] = mapped_column(String(500))
    api_keys: Mapped[list[str]] = mapped_column(JSON)
    models: Mapped[list[str]] = mapped_column(JSON)
    model_mapping: Mapped[dict[str, str]] = mapped_column(JSON)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    groups: Mapped[list[str] | None] = mapped_column(JSON)  # None: every group
    proxy: Mapped[str | None] = mapped_column(String(500))
    connect_timeout: Mapped[float] = mapped_column(Float, default=10.0)
    read_timeout: Mapped[float] = mapped_column(Float, default=120.0)
    first_token_timeout: Mapped[float | None] = mapped_column(Float)
    idle_timeout: Mapped[float | None] = mapped_column(Float)
    price: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    # "enabled", "disabled" (by an operator) or "auto_disabled" (by the platform, with reason)
    status: Mapped[str] = mapped_column(String(20), default="enabled")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_probe: Mapped[bool] = mapped_column(Boolean, default=False)  # re-enable when healthy
    balance_kind: Mapped[str | None] = mapped_column(String(32))
    balance: Mapped[str | None] = mapped_column(String(40))  # a decimal, as text
    balance_currency: Mapped[str | None] = mapped_column(String(16))
    balance_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_test_ms: Mapped[int | None] = mapped_column(Integer)
    last_test_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChangeStamp(Base):
    """A counter per kind of runtime configuration, raised in the transaction of each change:
    replicas compare it with the one they loaded (the fallback when Redis is absent)."""

    __tablename__ = "change_stamps"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
