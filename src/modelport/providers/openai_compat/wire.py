"""What OpenAI-compatible upstreams send, read leniently straight into our wire types.

Parsing goes through pydantic in one pass from the JSON text (no dict in between); fields we
do not know are ignored, so a vendor's additions never break a stream. Quirks of the family
live here: Moonshot reports a stream's usage inside the choice, some servers omit `id`,
`created` or `total_tokens`, errors may arrive as a stream event, and vLLM (since it renamed
the field) sends reasoning as `reasoning` where DeepSeek sends `reasoning_content`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ...protocol.base import WireModel
from ...protocol.chat_response import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
)


def complete_usage(usage: Usage | None) -> Usage | None:
    if usage is not None and not usage.total_tokens:  # its details kept
        return usage.with_counts(usage.prompt_tokens, usage.completion_tokens)
    return usage


def _reasoning_as_ours(data: Any) -> Any:
    """vLLM's `reasoning` read as `reasoning_content` (DeepSeek's, preferred when both come)."""
    if isinstance(data, dict) and data.get("reasoning_content") is None:
        reasoning = data.get("reasoning")
        if isinstance(reasoning, str):
            return {**data, "reasoning_content": reasoning}
    return data


class UpstreamDelta(Delta):
    _vllm = model_validator(mode="before")(_reasoning_as_ours)


class UpstreamMessage(AssistantMessage):
    _vllm = model_validator(mode="before")(_reasoning_as_ours)


class UpstreamMessageChoice(Choice):
    message: UpstreamMessage


class UpstreamChoice(ChunkChoice):
    delta: UpstreamDelta
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
    choices: list[UpstreamMessageChoice] = Field(default_factory=list)
    usage: Usage | None = None
    system_fingerprint: str | None = None
    error: Any = None

    def to_completion(self) -> ChatCompletion:
        return ChatCompletion(
            id=self.id or "chatcmpl-upstream",
            created=self.created,
            model=self.model,
            choices=list(self.choices),
            usage=complete_usage(self.usage) or Usage(),
            system_fingerprint=self.system_fingerprint,
        )
