"""`modelport keys …`: create, list and revoke API keys from the shell."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from .accounting.keys import KeyRecord, KeyStore
from .settings import Settings
from .storage.db import Database
from .storage.tables import utcnow

T = TypeVar("T")

keys_app = typer.Typer(name="keys", help="Manage API keys.", no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Overrides MODELPORT_DATA_DIR.", show_default=False),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides MODELPORT_DATABASE_URL.", show_default=False),
]


def _run(
    data_dir: Path | None, database_url: str | None, job: Callable[[KeyStore], Awaitable[T]]
) -> T:
    """Opens (and migrates) the configured database, runs `job` on its key store, closes it."""
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
            return await job(KeyStore(db, cache_ttl=0))
        finally:
            await db.dispose()

    return asyncio.run(main())


@keys_app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "default",
    owner: Annotated[str, typer.Option("--owner", help="Who usage is billed to.")] = "default",
    admin: Annotated[bool, typer.Option("--admin", help="May call the admin API.")] = False,
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", min=1, help="Expire after N days.")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key and print it. It is shown this once and cannot be recovered."""
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None

    async def job(store: KeyStore) -> tuple[str, KeyRecord]:
        return await store.create(name, owner, is_admin=admin, expires_at=expires_at)

    raw, record = _run(data_dir, database_url, job)
    typer.echo(raw)
    err = Console(stderr=True)
    err.print(f"created {record.id} for owner '{record.owner}'" + (" (admin)" if admin else ""))
    err.print("Store it now: modelport keeps only a hash and cannot show it again.")


@keys_app.command("list")
def list_keys(
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's keys.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List keys (their short display form only)."""

    async def job(store: KeyStore) -> list[KeyRecord]:
        return await store.list(owner)

    records = _run(data_dir, database_url, job)
    table = Table(
        "id", "key", "name", "owner", "admin", "created", "expires", "status", "last used"
    )
    now = utcnow()
    for r in records:
        status = "revoked" if r.revoked_at else ("active" if r.is_active(now) else "expired")
        table.add_row(
            r.id,
            r.display,
            r.name,
            r.owner,
            "yes" if r.is_admin else "",
            _when(r.created_at),
            _when(r.expires_at),
            status,
            _when(r.last_used_at),
        )
    Console(width=200).print(table)


@keys_app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as shown by `keys list`.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key; requests using it are refused from then on."""

    async def job(store: KeyStore) -> bool:
        return await store.revoke(key_id)

    if not _run(data_dir, database_url, job):
        typer.echo(f"no active key with id {key_id}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"revoked {key_id}")


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
