"""Local models added at runtime with `POST /admin/models` (migration 0010), restored into the
catalogue at start-up (a model of the YAML settings with the same name wins)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class RuntimeModel(Base):
    __tablename__ = "runtime_models"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    model_path: Mapped[str] = mapped_column(String(1000))  # `pulled:NAME` or a path
    keep_alive: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
