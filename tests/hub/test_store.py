"""Pulled models in the catalogue: `model_path: pulled:NAME`."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from modelport.hub.download import PullError
from modelport.hub.store import list_models, resolve_model_path, write_record
from modelport.providers.base import ProviderDeps
from modelport.providers.local.provider import LocalProvider
from modelport.settings import ChannelConfig, Settings, default_gguf_path


def test_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODELPORT_MODELS_DIR", raising=False)
    models = tmp_path / "models"
    models.mkdir()
    (models / "tiny-Q4_K_M.gguf").write_bytes(b"GGUF")
    write_record(models / "tiny-Q4_K_M.gguf", hashlib.sha256(b"GGUF").hexdigest(), "test")
    assert resolve_model_path("pulled:tiny-Q4_K_M", tmp_path) == str(models / "tiny-Q4_K_M.gguf")
    assert resolve_model_path("/some/file.gguf", tmp_path) == "/some/file.gguf"
    with pytest.raises(PullError, match="modelport pull it first"):
        resolve_model_path("pulled:absent", tmp_path)
    with pytest.raises(PullError):
        resolve_model_path("pulled:../models/tiny-Q4_K_M", tmp_path)
    monkeypatch.setenv("MODELPORT_MODELS_DIR", str(models))
    assert resolve_model_path("pulled:tiny-Q4_K_M", Path("/nowhere")).endswith(".gguf")


def test_the_local_provider_loads_a_pulled_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELPORT_MODELS_DIR", raising=False)
    models = tmp_path / "models"
    models.mkdir()
    (models / "smol.gguf").symlink_to(default_gguf_path())  # the default weights, as if pulled
    assert [m.name for m in list_models(models)] == ["smol"]
    settings = Settings(data_dir=tmp_path)
    provider = LocalProvider(cast(ProviderDeps, SimpleNamespace(settings=settings)))
    try:
        engine = provider.engine_for(ChannelConfig(provider="local", model_path="pulled:smol"))
        assert engine.model.path == str(models / "smol.gguf")
    finally:
        asyncio.run(provider.aclose())
