"""Console accounts, their groups and sign-in sessions (migration 0012).

A user owns keys (`api_keys.user_id`); quota and spending live on the user, a key may add
its own sub-limits. A group sets the price ratio of its users and which channels serve them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class UserGroup(Base):
    __tablename__ = "user_groups"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    ratio: Mapped[float] = mapped_column(Float, default=1.0)  # multiplies every price
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # None: OIDC sign-in only
    role: Mapped[str] = mapped_column(String(10), default="user")  # user, admin, root
    group_name: Mapped[str] = mapped_column(String(64), default="default", index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, disabled
    quota_tokens: Mapped[int | None] = mapped_column(BigInteger)  # None: unlimited
    quota_micros: Mapped[int | None] = mapped_column(BigInteger)
    used_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    used_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reserved_tokens: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reserved_micros: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsoleSession(Base):
    """A signed-in browser. Only the cookie's SHA-256 is stored; `csrf` is the token the
    console must echo in a header on every unsafe request."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(String(300))
