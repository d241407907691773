"""`modelport kb …` against a running server."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from modelport.cli import app
from tests.api.knowledge.helpers import CHINESE_DOC, ENGLISH_DOC
from tests.support.server import RunningServer


def test_create_add_search_ls_rm(server: RunningServer, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"MODELPORT_BASE_URL": server.api_url, "MODELPORT_API_KEY": server.admin_key}

    def run(*args: str) -> str:
        result = runner.invoke(app, ["kb", *args], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    kb_id = run("create", "cli-kb", "--chunk-max-len", "60", "--chunk-overlap-len", "5").strip()
    assert kb_id.startswith("kb-")
    (tmp_path / "travel.md").write_text(ENGLISH_DOC)
    (tmp_path / "手册.txt").write_text(CHINESE_DOC)
    added = run("add", kb_id, str(tmp_path / "travel.md"), str(tmp_path / "手册.txt"))
    assert "online" in added and "fail" not in added
    found = run("search", kb_id, "报销", "--top-k", "1")
    assert "手册.txt" in found and "差旅报销" in found
    assert kb_id in run("ls")
    assert f"deleted {kb_id}" in run("rm", kb_id)
    missing = runner.invoke(app, ["kb", "search", kb_id, "anything"], env=env)
    assert missing.exit_code == 1 and "404" in missing.output


def test_a_failed_file_fails_the_command(server: RunningServer, tmp_path: Path) -> None:
    env = {"MODELPORT_BASE_URL": server.api_url, "MODELPORT_API_KEY": server.admin_key}
    runner = CliRunner()
    kb_id = runner.invoke(app, ["kb", "create", "broken"], env=env).output.strip()
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7\nnot really a pdf\n%%EOF")
    result = runner.invoke(app, ["kb", "add", kb_id, str(tmp_path / "scan.pdf")], env=env)
    assert result.exit_code == 1 and "fail" in result.output
