"""The registry builds the HTTP vendor adapters by name, each satisfying `Provider`."""

from __future__ import annotations

import pytest

from modelport.providers.anthropic import AnthropicProvider
from modelport.providers.base import Provider, ProviderDeps
from modelport.providers.gemini import GeminiProvider
from modelport.providers.openai_compat.adapter import OpenAICompatProvider
from modelport.providers.registry import ChannelConfigError, ProviderRegistry
from modelport.settings import ChannelConfig, ModelConfig


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
    # the shared client belongs to the app, not the adapters: it still serves
    assert registry.get(name) is not provider  # a fresh instance after aclose


async def test_the_registry_refuses_unknown_providers_and_misspelt_options(
    deps: ProviderDeps,
) -> None:
    registry = ProviderRegistry(deps)
    unknown = ModelConfig(name="m", channels=[ChannelConfig(provider="openai_compatible")])
    with pytest.raises(ChannelConfigError) as info:
        registry.check([unknown])
    assert (info.value.model, info.value.channel, info.value.field) == ("m", 0, "provider")
    misspelt = ModelConfig(
        name="claude",
        channels=[
            ChannelConfig(provider="anthropic"),
            ChannelConfig(provider="anthropic", options={"max_token": 100}),
        ],
    )
    with pytest.raises(ChannelConfigError) as info:
        registry.check([misspelt])
    assert (info.value.model, info.value.channel) == ("claude", 1)
    assert info.value.field == "options.max_token"
    assert info.value.problem == "Extra inputs are not permitted"
    registry.check([ModelConfig(name="ok", channels=[ChannelConfig(provider="openai_compat")])])
