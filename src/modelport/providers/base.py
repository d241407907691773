"""The contract every vendor adapter (and the local engine) implements.

Providers speak the OpenAI wire types both ways: they take a validated
`ChatCompletionRequest` plus the channel that serves it, and return a `ChatCompletion` or a
`ProviderStream` of typed `ChatCompletionChunk`s that always ends with one `StreamEnd` (the
usage, reported or estimated). The chat service rewrites `id`/`model` to its own and does the
SSE framing and accounting; providers never account.

Failures raise `UpstreamError` (see `errors.py`); `retryable=True` only when the request never
reached the upstream, or its status says another channel may succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletion
from ..settings import ChannelConfig, Settings
from .http_client import UpstreamHTTP
from .stream import ProviderStream


@dataclass(frozen=True, slots=True)
class EngineLoad:
    """What an in-process engine is doing, for /health and the metrics."""

    model_path: str
    active: int
    queued: int
    expires_at: float | None = None  # unix time it unloads when idle (None: kept loaded)
    size: int = 0  # bytes it takes loaded (file + KV cache), estimated


class Provider(Protocol):
    """Everything the chat service and the app ask of a provider."""

    async def prepare(self, channel: ChannelConfig) -> None:
        """Get ready to serve `channel` (the local engine loads its model) at start-up."""

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion: ...

    def stream(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ProviderStream: ...

    def loads(self) -> list[EngineLoad]:
        """In-process engines' load (none for an upstream)."""
        ...

    async def aclose(self) -> None: ...


class UpstreamProvider:
    """The defaults of a provider that calls out: nothing to prepare, no engine, nothing of
    its own to close (the HTTP client belongs to the app)."""

    async def prepare(self, channel: ChannelConfig) -> None:
        return None

    def loads(self) -> list[EngineLoad]:
        return []

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True)
class ProviderDeps:
    """What a provider may need, built once in the app's lifespan and shared."""

    settings: Settings
    http: UpstreamHTTP
