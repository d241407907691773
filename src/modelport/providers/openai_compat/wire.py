"""What OpenAI-compatible upstreams send, read leniently straight into our wire types.

Parsing goes through pydantic in one pass from the JSON text (no dict in between); fields we
do not know are ignored, so a vendor's additions never break a stream. Quirks of the family
live here: Moonshot reports a stream's usage inside the choice, some servers omit `id`,
`created` or `total_tokens`, and errors may arrive as a stream event.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...protocol.base import WireModel
from ...protocol.chat_response import (
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Usage,
)


def complete_usage(usage: Usage | None) -> Usage | None:
    if usage is not None and not usage.total_tokens:
        return Usage.of(usage.prompt_tokens, usage.completion_tokens)
    return usage


class UpstreamChoice(ChunkChoice):
    usage: Usage | None = Field(default=None, exclude=True)  # Moonshot puts it here


class UpstreamChunk(WireModel):
    id: str = ""
    created: int = 0
    model: str = ""
    choices: list[UpstreamChoice] = Field(default_factory=list)
    usage: Usage | None = None
    error: Any = None

    def reported_usage(self) -> Usage | None:
        usage = self.usage
        for choice in self.choices:
            usage = choice.usage or usage
        return complete_usage(usage)

    def to_chunk(self) -> ChatCompletionChunk:
        """Our chunk (its choices, validated just now, are taken as they are)."""
        choices: list[ChunkChoice] = list(self.choices)
        return ChatCompletionChunk(
            id=self.id, created=self.created, model=self.model, choices=choices
        )


class UpstreamCompletion(WireModel):
    id: str = ""
    created: int = 0
    model: str = ""
    choices: list[Choice] = Field(default_factory=list)
    usage: Usage | None = None
    system_fingerprint: str | None = None
    error: Any = None

    def to_completion(self) -> ChatCompletion:
        return ChatCompletion(
            id=self.id or "chatcmpl-upstream",
            created=self.created,
            model=self.model,
            choices=self.choices,
            usage=complete_usage(self.usage) or Usage(),
            system_fingerprint=self.system_fingerprint,
        )
