"""`modelport keys` through typer's CliRunner, on both stores (the CLI runs its own event loop,
hence sync tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelport.accounting.keys import KeyRecord, KeyStore, display_key
from modelport.cli.keys import keys_app
from modelport.storage.db import Database

runner = CliRunner()


def _invoke(db_url: str, data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(keys_app, [*args, "--database-url", db_url, "--data-dir", str(data_dir)])
    return result.exit_code, result.stdout, result.stderr


def _authenticate(db_url: str, raw: str) -> KeyRecord | None:
    async def main() -> KeyRecord | None:
        db = Database(db_url)
        try:
            return await KeyStore(db).authenticate(raw)
        finally:
            await db.dispose()

    return asyncio.run(main())


def test_create_list_revoke(db_url: str, tmp_path: Path) -> None:
    code, out, _ = _invoke(db_url, tmp_path, "create", "--name", "ci", "--owner", "erin", "--admin")
    assert code == 0, out
    raw = out.strip()
    assert raw.startswith("sk-") and len(raw) == 51  # stdout is the key alone, for scripts
    record = _authenticate(db_url, raw)
    assert record is not None and record.owner == "erin" and record.is_admin

    code, out, _ = _invoke(db_url, tmp_path, "create", "--owner", "frank")
    assert code == 0
    other = out.strip()

    code, listing, _ = _invoke(db_url, tmp_path, "list")
    assert code == 0
    assert record.id in listing and display_key(raw) in listing and "erin" in listing
    assert raw not in listing and raw[3:-4] not in listing
    assert display_key(other) in listing

    code, listing, _ = _invoke(db_url, tmp_path, "list", "--owner", "frank")
    assert code == 0 and record.id not in listing and display_key(other) in listing

    code, out, _ = _invoke(db_url, tmp_path, "revoke", record.id)
    assert code == 0 and record.id in out
    assert _authenticate(db_url, raw) is None
    assert _authenticate(db_url, other) is not None


def test_revoke_unknown_id_fails(db_url: str, tmp_path: Path) -> None:
    code, _, err = _invoke(db_url, tmp_path, "revoke", "key_doesnotexist")
    assert code == 1
    assert "key_doesnotexist" in err


def test_default_database_lives_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELPORT_DATABASE_URL", raising=False)
    monkeypatch.delenv("MODELPORT_CONFIG", raising=False)
    data_dir = tmp_path / "state"
    result = runner.invoke(keys_app, ["create", "--owner", "gina", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert (data_dir / "modelport.db").is_file()
    url = f"sqlite+aiosqlite:///{data_dir / 'modelport.db'}"
    assert _authenticate(url, result.stdout.strip()) is not None
