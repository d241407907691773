"""`modelport users` through typer's CliRunner on both stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from modelport.accounting.users import UserRecord, UserStore
from modelport.cli.users import users_app
from modelport.storage.db import Database

runner = CliRunner()


def _invoke(db_url: str, data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(
        users_app, [*args, "--database-url", db_url, "--data-dir", str(data_dir)]
    )
    return result.exit_code, result.stdout + result.stderr


def _user(db_url: str, name: str) -> UserRecord | None:
    async def main() -> UserRecord | None:
        db = Database(db_url)
        try:
            return await UserStore(db).by_username(name)
        finally:
            await db.dispose()

    return asyncio.run(main())


def test_create_root_and_change_roles(db_url: str, tmp_path: Path) -> None:
    code, out = _invoke(db_url, tmp_path, "create", "plain", "--password", "password one")
    assert code == 0, out
    plain = _user(db_url, "plain")
    assert plain is not None and plain.role == "root"  # the first account ever
    code, out = _invoke(db_url, tmp_path, "create", "Ops", "--root", "--password", "password two")
    assert code == 0, out
    assert _user(db_url, "ops").role == "root"  # type: ignore[union-attr]
    assert _invoke(db_url, tmp_path, "set-role", "plain", "user")[0] == 0
    code, out = _invoke(db_url, tmp_path, "set-role", "ops", "admin")
    assert code == 1 and "last root" in out
    code, out = _invoke(db_url, tmp_path, "create", "weak", "--password", "short")
    assert code == 1 and "at least 8" in out
    code, out = _invoke(db_url, tmp_path, "create", "OPS", "--password", "password two")
    assert code == 1 and "taken" in out
