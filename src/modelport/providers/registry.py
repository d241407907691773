"""Provider name → adapter class, imported on first use (llama.cpp loads only if used)."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel, ValidationError

from ..protocol.errors import APIError
from ..settings import ModelConfig
from .base import EngineLoad, Provider, ProviderDeps

BUILTIN_PROVIDERS: dict[str, str] = {
    "local": "modelport.providers.local.provider:LocalProvider",
    "openai_compat": "modelport.providers.openai_compat.adapter:OpenAICompatProvider",
    "anthropic": "modelport.providers.anthropic.adapter:AnthropicProvider",
    "ernie": "modelport.providers.ernie.adapter:ErnieProvider",
    "spark": "modelport.providers.spark.adapter:SparkProvider",
    "gemini": "modelport.providers.gemini.adapter:GeminiProvider",
    "deepl": "modelport.providers.deepl.adapter:DeepLProvider",
}


class ChannelConfigError(ValueError):
    """A channel of the catalogue that cannot work as written."""

    def __init__(self, model: str, channel: int, field: str, problem: str) -> None:
        self.model, self.channel, self.field, self.problem = model, channel, field, problem
        super().__init__(f"model '{model}', channel {channel}: {field}: {problem}")


def provider_class(table: dict[str, str], name: str) -> Any:
    module_name, _, class_name = table[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def check_catalogue(models: list[ModelConfig], table: dict[str, str] = BUILTIN_PROVIDERS) -> None:
    """Every channel names a known provider and its `options` fit that provider's model."""
    for model in models:
        for index, channel in enumerate(model.channels):
            if channel.provider not in table:
                known = ", ".join(sorted(table))
                raise ChannelConfigError(
                    model.name, index, "provider", f"unknown '{channel.provider}' ({known})"
                )
            options: type[BaseModel] = provider_class(table, channel.provider).Options
            try:
                channel.typed_options(options)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in ("options", *first["loc"]))
                problem = first["msg"].removeprefix("Value error, ")
                raise ChannelConfigError(model.name, index, where, problem) from None


class ProviderRegistry:
    def __init__(self, deps: ProviderDeps, table: dict[str, str] | None = None) -> None:
        self._deps = deps
        self._table = dict(BUILTIN_PROVIDERS if table is None else table)
        self._instances: dict[str, Provider] = {}

    def get(self, name: str) -> Provider:
        provider = self._instances.get(name)
        if provider is None:
            if name not in self._table:
                raise APIError(500, f"unknown provider '{name}'", type="server_error")
            provider = provider_class(self._table, name)(self._deps)
            self._instances[name] = provider
        return provider

    def created(self, name: str) -> Provider | None:
        """The provider if something has used it already (none is made here)."""
        return self._instances.get(name)

    def check(self, models: list[ModelConfig]) -> None:
        check_catalogue(models, self._table)

    async def prepare(self, models: list[ModelConfig]) -> None:
        """Let each channel's provider get ready (the local engine loads its model now)."""
        for model in models:
            for channel in model.channels:
                await self.get(channel.provider).prepare(channel)

    def loads(self) -> list[EngineLoad]:
        return [load for provider in self._instances.values() for load in provider.loads()]

    async def aclose(self) -> None:
        for provider in self._instances.values():
            await provider.aclose()
        self._instances.clear()
