"""`modelport keys …`: the admin API's key operations from the shell, on both stores."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from modelport.cli import app

runner = CliRunner()


def _keys(db_url: str, tmp_path: Path, *args: str) -> str:
    result = runner.invoke(
        app, ["keys", *args, "--database-url", db_url, "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_keys_cli_round_trip(db_url: str, tmp_path: Path) -> None:
    url = db_url  # empty: the CLI migrates it
    raw = (
        _keys(
            url,
            tmp_path,
            "create",
            "--name",
            "ci",
            "--owner",
            "ops",
            "--quota",
            "2.5",
            "--rpm",
            "10",
            "--models",
            "a,b",
        )
        .strip()
        .splitlines()[-1]
    )
    assert raw.startswith("sk-")
    listed = _keys(url, tmp_path, "list", "--owner", "ops")
    [key_id] = re.findall(r"key_[0-9a-f]{16}", listed)
    assert raw not in listed

    shown = _keys(url, tmp_path, "show", key_id)
    assert "quota: 2.5" in shown and "models: a, b" in shown and "10 / -" in shown
    updated = _keys(
        url,
        tmp_path,
        "update",
        key_id,
        "--tpm",
        "500",
        "--clear",
        "rpm",
        "--clear",
        "models",
        "--quota-tokens",
        "99",
    )
    assert "- / 500" in updated and "models: all" in updated and "99 tok + 2.5" in updated

    rotated = _keys(url, tmp_path, "rotate", key_id).strip().splitlines()[-1]
    assert rotated.startswith("sk-") and rotated != raw
    assert "revoked" in _keys(url, tmp_path, "revoke", key_id)
    assert "status: revoked" in _keys(url, tmp_path, "show", key_id)
    missing = runner.invoke(app, ["keys", "show", "key_nope", "--database-url", url])
    assert missing.exit_code == 1
