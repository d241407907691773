"""Running one server fixture on each store: a fresh SQLite file, or a fresh PostgreSQL
database on the machine's server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.postgres import create_database, drop_database
from tests.support.server import RunningServer, run_server

STORES = ["sqlite", "postgresql"]


@contextmanager
def run_on_store(
    store: str, data_dir: Path, config: dict[str, Any], **options: Any
) -> Iterator[RunningServer]:
    """`run_server` on `store` (one of STORES)."""
    if store == "sqlite":
        with run_server(data_dir, config=config, **options) as running:
            yield running
        return
    name, url = create_database("modelport_store")
    try:
        env = {**options.pop("env", {}), "MODELPORT_DATABASE_URL": url}
        with run_server(data_dir, config=config, env=env, **options) as running:
            yield running
    finally:
        drop_database(name)
