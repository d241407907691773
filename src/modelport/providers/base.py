"""The contract every vendor adapter (and the local engine) implements.

Providers speak the OpenAI wire types both ways: they take a validated
`ChatCompletionRequest` plus the channel that serves it, and return a `ChatCompletion` or an
async iterator of `ChatCompletionChunk`s. The chat service rewrites `id`/`model` to its own
and does the SSE framing and accounting; providers never account.

Streams: the last chunk a provider yields carries `usage` (merged into the finish chunk or as a
usage-only chunk with empty `choices`). Failures raise `UpstreamError` (see `errors.py`);
`retryable=True` only when nothing has been yielded yet and another channel may succeed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletion, ChatCompletionChunk
from ..settings import ChannelConfig, Settings


class Provider(Protocol):
    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion: ...

    def stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]: ...

    async def aclose(self) -> None: ...


@dataclass
class ProviderDeps:
    """What a provider may need, built once in the app's lifespan and shared."""

    settings: Settings
    http: httpx.AsyncClient
    extras: dict[str, object] = field(default_factory=dict)
