"""What the CLI's database commands share: the `--data-dir` / `--database-url` options and
running one job on the configured (and migrated) database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from ..settings import Settings
from ..storage.db import Database

T = TypeVar("T")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Overrides MODELPORT_DATA_DIR.", show_default=False),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides MODELPORT_DATABASE_URL.", show_default=False),
]


def run_on_database(
    data_dir: Path | None, database_url: str | None, job: Callable[[Database], Awaitable[T]]
) -> T:
    """Opens (and migrates) the configured database, runs `job` on it, closes it."""
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    settings = Settings(**overrides)  # type: ignore[arg-type]

    async def main() -> T:
        db = Database(settings.resolved_database_url())
        try:
            await db.migrate()
            return await job(db)
        finally:
            await db.dispose()

    return asyncio.run(main())
