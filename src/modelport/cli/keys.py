"""`modelport keys …`: create, list, show, update, rotate and revoke API keys from the shell.

The same operations as the admin API (`/admin/keys`), straight on the configured database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ..accounting.keys import KeyRecord, KeyStore
from ..accounting.pricing import from_micros, to_micros
from ..storage.tables import utcnow
from .database import DatabaseUrl, DataDir, run_on_database

T = TypeVar("T")

keys_app = typer.Typer(name="keys", help="Manage API keys.", no_args_is_help=True)

KeyId = Annotated[str, typer.Argument(help="The key's id, as shown by `keys list`.")]
QuotaTokens = Annotated[
    int | None, typer.Option("--quota-tokens", min=0, help="Token quota.", show_default=False)
]
Quota = Annotated[
    float | None, typer.Option("--quota", min=0, help="Currency quota.", show_default=False)
]
Models = Annotated[
    str | None,
    typer.Option("--models", help="Comma-separated allowed models.", show_default=False),
]
Kbs = Annotated[
    str | None,
    typer.Option("--kbs", help="Comma-separated allowed knowledge bases.", show_default=False),
]
Rpm = Annotated[int | None, typer.Option("--rpm", min=1, help="Requests per minute.")]
Tpm = Annotated[int | None, typer.Option("--tpm", min=1, help="Tokens per minute.")]
Multiplier = Annotated[
    float | None, typer.Option("--multiplier", min=0, help="Group price multiplier.")
]


def _run(
    data_dir: Path | None, database_url: str | None, job: Callable[[KeyStore], Awaitable[T]]
) -> T:
    return run_on_database(data_dir, database_url, lambda db: job(KeyStore(db, cache_ttl=0)))


@keys_app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "default",
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner",
            help="Whose files, knowledge bases and bills the key shares; default: its own id.",
            show_default=False,
        ),
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May call the admin API.")] = False,
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", min=1, help="Expire after N days.")
    ] = None,
    quota_tokens: QuotaTokens = None,
    quota: Quota = None,
    models: Models = None,
    kbs: Kbs = None,
    rpm: Rpm = None,
    tpm: Tpm = None,
    multiplier: Multiplier = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key and print it. It is shown this once and cannot be recovered."""
    expires_at = utcnow() + timedelta(days=expires_days) if expires_days else None
    limits = _limits(quota_tokens, quota, models, kbs, rpm, tpm, multiplier)

    async def job(store: KeyStore) -> tuple[str, KeyRecord]:
        return await store.create(name, owner, is_admin=admin, expires_at=expires_at, **limits)

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
        "id", "key", "name", "owner", "admin", "expires", "status", "used", "quota", "rpm/tpm"
    )
    for r in records:
        table.add_row(
            r.id,
            r.display,
            r.name,
            r.owner,
            "yes" if r.is_admin else "",
            _when(r.expires_at),
            _status(r),
            f"{r.used_tokens} tok / {from_micros(r.used_micros):g}",
            _quota(r),
            f"{r.rpm or '-'}/{r.tpm or '-'}",
        )
    Console(width=220).print(table)


@keys_app.command()
def show(key_id: KeyId, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Show one key's settings and usage counters."""

    async def job(store: KeyStore) -> KeyRecord | None:
        return await store.get(key_id)

    _print(_found(_run(data_dir, database_url, job), key_id))


@keys_app.command()
def update(
    key_id: KeyId,
    name: Annotated[str | None, typer.Option("--name")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    quota_tokens: QuotaTokens = None,
    quota: Quota = None,
    models: Models = None,
    kbs: Kbs = None,
    rpm: Rpm = None,
    tpm: Tpm = None,
    multiplier: Multiplier = None,
    clear: Annotated[
        list[str] | None,
        typer.Option(
            "--clear", help="Remove a limit: quota-tokens, quota, models, kbs, rpm, tpm, expiry."
        ),
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a key's settings; options not given stay as they are."""
    changes = _limits(quota_tokens, quota, models, kbs, rpm, tpm, multiplier)
    changes.update({k: v for k, v in (("name", name), ("owner", owner)) if v is not None})
    for item in clear or []:
        if item not in _CLEARABLE:
            raise typer.BadParameter(f"cannot clear {item!r}", param_hint="--clear")
        changes[_CLEARABLE[item]] = None

    async def job(store: KeyStore) -> KeyRecord | None:
        return await store.update(key_id, changes)

    _print(_found(_run(data_dir, database_url, job), key_id))


@keys_app.command()
def rotate(key_id: KeyId, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Give a key a new secret (same id, limits and usage); the old secret stops working."""

    async def job(store: KeyStore) -> tuple[str, KeyRecord] | None:
        return await store.rotate(key_id)

    rotated = _run(data_dir, database_url, job)
    if rotated is None:
        typer.echo(f"no active key with id {key_id}", err=True)
        raise typer.Exit(code=1)
    typer.echo(rotated[0])
    Console(stderr=True).print(f"rotated {key_id}; the new secret is shown this once.")


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


_CLEARABLE = {
    "quota-tokens": "quota_tokens",
    "quota": "quota_micros",
    "models": "allowed_models",
    "kbs": "allowed_kbs",
    "rpm": "rpm",
    "tpm": "tpm",
    "expiry": "expires_at",
}


def _limits(
    quota_tokens: int | None,
    quota: float | None,
    models: str | None,
    kbs: str | None,
    rpm: int | None,
    tpm: int | None,
    multiplier: float | None,
) -> dict[str, Any]:
    """The options that were given, as `KeyStore` fields."""
    fields: dict[str, Any] = {
        "quota_tokens": quota_tokens,
        "quota_micros": None if quota is None else to_micros(quota),
        "allowed_models": _names(models),
        "allowed_kbs": _names(kbs),
        "rpm": rpm,
        "tpm": tpm,
        "group_multiplier": multiplier,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _found(record: KeyRecord | None, key_id: str) -> KeyRecord:
    if record is None:
        typer.echo(f"no key with id {key_id}", err=True)
        raise typer.Exit(code=1)
    return record


def _status(r: KeyRecord) -> str:
    return "revoked" if r.revoked_at else ("active" if r.is_active() else "expired")


def _quota(r: KeyRecord) -> str:
    parts = []
    if r.quota_tokens is not None:
        parts.append(f"{r.quota_tokens} tok")
    if r.quota_micros is not None:
        parts.append(f"{from_micros(r.quota_micros):g}")
    return " + ".join(parts) or "unlimited"


def _print(r: KeyRecord) -> None:
    rows = {
        "id": r.id,
        "key": r.display,
        "name": r.name,
        "owner": r.owner,
        "admin": "yes" if r.is_admin else "no",
        "status": _status(r),
        "created": _when(r.created_at),
        "expires": _when(r.expires_at) or "never",
        "last used": _when(r.last_used_at),
        "quota": _quota(r),
        "used": f"{r.used_tokens} tokens, {from_micros(r.used_micros):g}",
        "models": ", ".join(r.allowed_models) if r.allowed_models is not None else "all",
        "knowledge bases": ", ".join(r.allowed_kbs) if r.allowed_kbs is not None else "all",
        "rpm / tpm": f"{r.rpm or '-'} / {r.tpm or '-'}",
        "multiplier": f"{r.group_multiplier:g}",
    }
    for label, value in rows.items():
        typer.echo(f"{label:>16}: {value}")


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")
