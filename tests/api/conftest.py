"""Fixtures for the API suite: the model's own tokenizer, for tests that speak in token ids."""

from __future__ import annotations

import pytest

from modelport.engine.native import NativeModel
from modelport.settings import default_gguf_path


@pytest.fixture(scope="session")
def tokenizer() -> NativeModel:
    return NativeModel(default_gguf_path())
