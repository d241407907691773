"""Tables of the platform features (migration 0003): redemption codes for top-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class RedemptionCode(Base):
    """A one-time top-up. Only the code's SHA-256 is stored, like API keys."""

    __tablename__ = "redemption_codes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display: Mapped[str] = mapped_column(String(32))
    batch: Mapped[str] = mapped_column(String(100), index=True)
    tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    micros: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_by: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    # Migration 0012: the account a code topped up, and an operator's switch.
    redeemed_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
