"""Alembic environment, configured in code.

At runtime `Database.migrate()` hands over an open connection in `config.attributes`. For
developers, `alembic -c src/modelport/storage/migrations/alembic.ini revision --autogenerate`
connects to `MODELPORT_DATABASE_URL` (or the settings' default SQLite file) itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from modelport.storage import Base  # the package registers every table module

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    from modelport.settings import Settings

    engine = create_async_engine(Settings().resolved_database_url())
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    elif context.is_offline_mode():
        raise RuntimeError("offline (--sql) migrations are not supported; run them online")
    else:
        asyncio.run(_run_standalone())


main()
