"""Provider name → adapter class, imported on first use (llama.cpp loads only if used)."""

from __future__ import annotations

import importlib
from typing import Any

from ..protocol.errors import APIError
from .base import Provider, ProviderDeps

BUILTIN_PROVIDERS: dict[str, str] = {
    "local": "modelport.providers.local:LocalProvider",
    "openai_compat": "modelport.providers.openai_compat:OpenAICompatProvider",
    "anthropic": "modelport.providers.anthropic:AnthropicProvider",
    "ernie": "modelport.providers.ernie:ErnieProvider",
    "spark": "modelport.providers.spark:SparkProvider",
    "gemini": "modelport.providers.gemini:GeminiProvider",
}


class ProviderRegistry:
    def __init__(
        self, deps: ProviderDeps, table: dict[str, str] | None = None, *, owns_http: bool = False
    ) -> None:
        self._deps = deps
        self._owns_http = owns_http  # close `deps.http` with the providers
        self._table = dict(BUILTIN_PROVIDERS if table is None else table)
        self._instances: dict[str, Provider] = {}

    def known(self, name: str) -> bool:
        return name in self._table

    def get(self, name: str) -> Provider:
        provider = self._instances.get(name)
        if provider is None:
            if name not in self._table:
                raise APIError(500, f"unknown provider '{name}'", type="server_error")
            module_name, _, class_name = self._table[name].partition(":")
            cls: Any = getattr(importlib.import_module(module_name), class_name)
            provider = cls(self._deps)
            self._instances[name] = provider
        return provider

    def instances(self) -> list[Provider]:
        return list(self._instances.values())

    async def aclose(self) -> None:
        for provider in self._instances.values():
            await provider.aclose()
        self._instances.clear()
        if self._owns_http:
            await self._deps.http.aclose()
