"""The stored responses of `POST /v1/responses` (migration 0006).

A row holds what `previous_response_id` and `GET /v1/responses/{id}` need: the whole input
the response answered (the stored conversation before it, then its own input items) and the
response object itself, both as JSON text. A response made with `store: false` has no row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base, UTCDateTime, utcnow


class StoredResponse(Base):
    __tablename__ = "stored_responses"
    __table_args__ = (Index("ix_stored_responses_owner_created_at", "owner", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    input_items: Mapped[str] = mapped_column(Text)  # a JSON array of input items
    response: Mapped[str] = mapped_column(Text)  # the response object as JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
