"""`modelport pull` and `modelport models list | rm` through typer's CliRunner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelport.cli import app
from tests.fakes.hf_hub import FakeHubs, make_app
from tests.fakes.server import serve_asgi

GGUF = b"GGUF" + os.urandom(200_000)
runner = CliRunner()


@pytest.fixture
def hubs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHubs]:
    hubs = FakeHubs(hf={"org/Tiny-GGUF": {"tiny-Q4_K_M.gguf": GGUF}})
    with serve_asgi(make_app(hubs)) as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setenv("MODELPORT_MODELS_DIR", str(tmp_path / "models"))
        yield hubs


def test_pull_list_rm(hubs: FakeHubs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    result = runner.invoke(app, ["pull", "hf.co/org/Tiny-GGUF:Q4_K_M"])
    assert result.exit_code == 0, result.output
    assert "tiny-Q4_K_M" in result.output
    assert (tmp_path / "models" / "tiny-Q4_K_M.gguf").read_bytes() == GGUF

    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    assert "tiny-Q4_K_M" in listed.output
    assert "195.3 KB" in listed.output
    assert "hf.co/org/Tiny-GGUF/tiny-Q4_K_M.gguf" in listed.output
    assert str(tmp_path / "models" / "tiny-Q4_K_M.gguf") in listed.output

    removed = runner.invoke(app, ["models", "rm", "tiny-Q4_K_M"])
    assert removed.exit_code == 0, removed.output
    assert list((tmp_path / "models").glob("*.gguf*")) == []
    assert "no models pulled" in runner.invoke(app, ["models", "list"]).output
    assert runner.invoke(app, ["models", "rm", "tiny-Q4_K_M"]).exit_code == 1


def test_wrong_hash_exits_non_zero(hubs: FakeHubs, tmp_path: Path) -> None:
    hubs.corrupt = True
    result = runner.invoke(app, ["pull", "hf.co/org/Tiny-GGUF:Q4_K_M"])
    assert result.exit_code == 1
    assert "SHA-256" in result.output and "discarded" in result.output
    assert [p for p in (tmp_path / "models").rglob("*") if p.is_file()] == []


def test_no_matching_quant(hubs: FakeHubs) -> None:
    result = runner.invoke(app, ["pull", "hf.co/org/Tiny-GGUF:Q8_0"])
    assert result.exit_code == 1
    assert "no GGUF matches 'Q8_0'" in result.output


def test_models_dir_option(hubs: FakeHubs, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    result = runner.invoke(app, ["pull", "hf.co/org/Tiny-GGUF", "--models-dir", str(other)])
    assert result.exit_code == 0, result.output
    assert (other / "tiny-Q4_K_M.gguf").is_file()
