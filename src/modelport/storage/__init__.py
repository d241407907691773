"""Persistence: the SQLAlchemy engine and sessions, the ORM tables and their Alembic migrations."""

from .db import Database
from .tables import ApiKey, Base, UsageRecord

__all__ = ["ApiKey", "Base", "Database", "UsageRecord"]
