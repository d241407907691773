from tests.storage.backends import db, db_url, pg_database_url

__all__ = ["db", "db_url", "pg_database_url"]
