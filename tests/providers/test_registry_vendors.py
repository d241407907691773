"""The registry builds the HTTP vendor adapters by name, each satisfying `Provider`."""

from __future__ import annotations

import pytest

from modelport.providers.anthropic import AnthropicProvider
from modelport.providers.base import Provider, ProviderDeps
from modelport.providers.gemini import GeminiProvider
from modelport.providers.openai_compat.adapter import OpenAICompatProvider
from modelport.providers.registry import ProviderRegistry


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("openai_compat", OpenAICompatProvider),
        ("anthropic", AnthropicProvider),
        ("gemini", GeminiProvider),
    ],
)
async def test_registry_builds_vendor(deps: ProviderDeps, name: str, cls: type) -> None:
    registry = ProviderRegistry(deps)
    provider: Provider = registry.get(name)
    assert isinstance(provider, cls)
    assert registry.get(name) is provider
    await registry.aclose()
    assert not deps.http.is_closed  # the shared client belongs to the app, not the adapter
