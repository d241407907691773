"""Persistence: the SQLAlchemy engine and sessions, the ORM tables and their Alembic migrations."""

# Every table module is imported here so that `Base.metadata` is complete whichever part of the
# package is imported first (Alembic's env.py and the schema tests rely on it).
from . import (
    channel_tables,
    knowledge_tables,
    mj_tables,
    platform_tables,
    response_tables,
    runtime_model_tables,
    user_tables,
)
from .db import Database
from .tables import ApiKey, Base, UsageRecord

__all__ = [
    "ApiKey",
    "Base",
    "Database",
    "UsageRecord",
    "channel_tables",
    "knowledge_tables",
    "mj_tables",
    "platform_tables",
    "response_tables",
    "runtime_model_tables",
    "user_tables",
]
