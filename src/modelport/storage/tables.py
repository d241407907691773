"""The ORM tables, typed SQLAlchemy 2 style, on one declarative base.

Timestamps are timezone-aware UTC in Python. PostgreSQL stores `timestamptz`; SQLite has no
time zone type, so UTC is stored naive there and the zone is put back on read (which also keeps
SQLite's text comparisons of timestamps correct).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names keep SQLite batch migrations and PostgreSQL in step.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime that must be timezone-aware going in and is UTC-aware coming out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ApiKey(Base):
    """An API key. Only its SHA-256 is stored; `display` is a short hint such as `sk-abcd…wxyz`."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Platform limits (migration 0003). Quotas: None means unlimited; money is in micro-units.
    # Server defaults repeat the ones the scripts gave columns added to existing rows: a new
    # database is created from these classes (storage/db.py) and must equal a migrated one.
    quota_tokens: Mapped[int | None] = mapped_column(BigInteger)
    quota_micros: Mapped[int | None] = mapped_column(BigInteger)
    used_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    used_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON)
    allowed_kbs: Mapped[list[str] | None] = mapped_column(JSON)
    rpm: Mapped[int | None] = mapped_column(Integer)
    tpm: Mapped[int | None] = mapped_column(Integer)
    group_multiplier: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")
    # What requests in flight hold against the quota (migration 0005, accounting/reservations).
    reserved_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reserved_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The account owning the key (migration 0012); None for keys made before accounts.
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class QuotaReservation(Base):
    """One request's hold on its key's quota, from admission until its usage row is written."""

    __tablename__ = "quota_reservations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    tokens: Mapped[int] = mapped_column(BigInteger)
    micros: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)  # holds the spend, not a guess
    # The account whose quota the hold is also on (migration 0012); None: the key's alone.
    user_id: Mapped[str | None] = mapped_column(String(40), index=True)


class UsageRecord(Base):
    """One finished request, as the ledger saw it."""

    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_records_key_id_created_at", "key_id", "created_at"),
        Index("ix_usage_records_owner_created_at", "owner", "created_at"),
        # The request log's filters, each ending in its newest-first order (migration 0013)
        Index("ix_usage_records_created_at_id", "created_at", "id"),
        Index("ix_usage_records_user_id_created_at", "user_id", "created_at", "id"),
        Index("ix_usage_records_model_created_at", "model", "created_at", "id"),
        Index("ix_usage_records_channel_created_at", "channel", "created_at", "id"),
        Index("ix_usage_records_status_created_at", "status", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    owner: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(64))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    total_tokens: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(100))
    stream: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    searches: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cached_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # What a request that is not counted in tokens bought: "2 × 1024x1024 hd" (images),
    # "IMAGINE fast" (a Midjourney task), "refund of task …"
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Which channel served the request or failed last: a runtime channel's id (`ch_…`) or a
    # settings channel's `model#index`, and its name then (migration 0013)
    channel: Mapped[str | None] = mapped_column(String(100))
    channel_name: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(40))  # the key's account then
    # Time to the first token of a stream; for an answer in one piece, its latency
    ttft_ms: Mapped[int | None] = mapped_column(Integer)
