"""The database handle: one async engine, its session factory, and programmatic migrations."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import (
    Column,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    inspect,
    make_url,
    select,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision of each branch under migrations/versions. tests/storage checks it against
# Alembic's own reading of the scripts, so a new migration cannot be forgotten here.
SCHEMA_HEADS = frozenset({"0013_request_log"})
# Alembic's bookkeeping table, as `alembic stamp` creates it.
_VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
SQLITE_BUSY_TIMEOUT_MS = 5000
# Any constant works; it only has to be the same for every process migrating this database.
_PG_MIGRATION_LOCK = 0x6D6F64656C706F72


# PostgreSQL's codes for a transaction aborted only because of a concurrent one.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure
_PG_ATTEMPTS = 4


def transient_conflict(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _TRANSIENT_SQLSTATES


class Database:
    """Owns the engine. Build one per process in the app's lifespan and `dispose()` it at exit.

    URLs: `sqlite+aiosqlite:///path/to.db` (the default setup) or `postgresql+asyncpg://...`.
    """

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = make_url(url)
        connect_args: dict[str, Any] = {}
        if self.is_sqlite:
            _ensure_parent_dir(self.url)
            connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
        self._connect_args = connect_args
        self.engine: AsyncEngine = create_async_engine(
            self.url, echo=echo, pool_pre_ping=not self.is_sqlite, connect_args=connect_args
        )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        # Single statements on the hot path skip BEGIN/COMMIT round trips.
        self.autocommit: AsyncEngine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._batch: tuple[Engine, ThreadPoolExecutor] | None = None  # SQLite: `write_batch`

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    async def migrate(self) -> None:
        """Brings the schema to the newest revision (Alembic `upgrade head`); no-op if current."""
        async with self._sqlite_migration_lock(), self.engine.begin() as conn:
            if not self.is_sqlite:
                # Replicas starting together must not race each other's DDL.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
                )
            await conn.run_sync(bring_to_head)

    async def write_batch(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one transaction, for writes of many statements off the request path.

        Through aiosqlite every statement, the BEGIN and the COMMIT are each a round trip to
        its thread (about 0.4 ms of CPU apiece here, several ms per ledger batch); on SQLite the
        whole transaction therefore runs in one hop, on a synchronous engine over the same file
        and a thread of its own. Elsewhere (asyncpg) `work` runs on the async engine."""
        if not self.is_sqlite:
            return await self._pg_write(work)
        if self._batch is None:
            sync_url = self.url.set(drivername="sqlite+pysqlite")
            batch_engine = create_engine(sync_url, connect_args=self._connect_args)
            event.listen(batch_engine, "connect", _sqlite_pragmas)
            writer = ThreadPoolExecutor(1, thread_name_prefix="modelport-db-batch")
            self._batch = batch_engine, writer
        engine, thread = self._batch

        def run() -> T:
            with engine.begin() as conn:
                return work(conn)

        return await asyncio.get_running_loop().run_in_executor(thread, run)

    async def _pg_write(self, work: Callable[[Connection], T]) -> T:
        """`work` in a transaction, run again when PostgreSQL aborted it for a deadlock or a
        serialization conflict with another writer (another replica's batch locking the same
        keys in another order): the transaction was rolled back whole, and every `work` given
        here only reads and writes the database, so running it again is safe."""
        for attempt in range(1, _PG_ATTEMPTS + 1):
            try:
                async with self.engine.begin() as conn:
                    return await conn.run_sync(work)
            except DBAPIError as exc:
                if attempt == _PG_ATTEMPTS or not transient_conflict(exc):
                    raise
                await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._batch is not None:
            engine, thread = self._batch
            self._batch = None
            await asyncio.get_running_loop().run_in_executor(thread, engine.dispose)
            thread.shutdown(wait=True)

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispose()

    async def ping(self) -> None:
        """One `SELECT 1` round trip; raises when the database is unreachable."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @contextlib.asynccontextmanager
    async def _sqlite_migration_lock(self) -> AsyncIterator[None]:
        """Serialises migrations of one SQLite file across processes on this host."""
        database = self.url.database
        if not self.is_sqlite or not database or database == ":memory:" or sys.platform == "win32":
            yield
            return
        # In a thread: a second migrate() in this same process must wait, not freeze the loop.
        lock = await asyncio.to_thread(_take_file_lock, Path(f"{database}.migrate-lock"))
        try:
            yield
        finally:
            lock.close()  # closing the file releases the lock


def bring_to_head(connection: Connection) -> None:
    """Alembic `upgrade heads`, importing Alembic only when there is migrating to do: the import
    alone is about 0.4 s, a quarter of a fresh start. An empty database gets the ORM's schema in
    one go and is stamped at the heads (Alembic's recipe for a new database); one already at
    the heads is left alone; anything else goes through the migration scripts."""
    tables = set(inspect(connection).get_table_names())
    if not tables:
        from .tables import Base  # the package has imported every table module

        Base.metadata.create_all(connection)
        _VERSION_TABLE.create(connection)
        connection.execute(
            _VERSION_TABLE.insert(), [{"version_num": head} for head in sorted(SCHEMA_HEADS)]
        )
        return
    if _VERSION_TABLE.name in tables:
        current = set(connection.scalars(select(_VERSION_TABLE.c.version_num)))
        if current == SCHEMA_HEADS:
            return
    run_alembic_upgrade(connection)


def run_alembic_upgrade(connection: Connection) -> None:
    """Runs `alembic upgrade head` on an open connection, configured in code (no alembic.ini)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")  # parallel feature branches of the schema


def _take_file_lock(path: Path) -> IO[str]:
    import fcntl  # POSIX only, hence the late import

    fh = path.open("a")
    fcntl.flock(fh, fcntl.LOCK_EX)
    return fh


def _ensure_parent_dir(url: URL) -> None:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()
