"""Legacy text completions (`POST /completions`) on OpenAI-compatible upstreams.

The prompt goes to the upstream as the client wrote it (unknown fields included); `echo` is
left out because the platform echoes the prompt itself, the same way for every backend. The
upstream's `text_completion` objects are read as chat completions and chunks (the text as the
message's content), so the chat pipeline's stream, usage and booking handle them unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...protocol.base import WireModel
from ...protocol.chat_response import (
    AssistantMessage,
    ChatCompletion,
    Choice,
    FinishReason,
    Usage,
)
from ...protocol.completions import DEFAULT_MAX_TOKENS, CompletionRequest
from ...settings import ChannelConfig
from .wire import UpstreamChoice, UpstreamChunk, UpstreamDelta, complete_usage

_KNOWN_REASONS = ("stop", "length", "content_filter")


def completion_to_upstream(
    completion: CompletionRequest, channel: ChannelConfig, *, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = completion.model_dump(mode="json", exclude_unset=True)
    for unsupported in ("echo", "suffix", "logprobs", "best_of"):  # refused or done here
        body.pop(unsupported, None)
    body["model"] = channel.upstream_model or completion.model
    body["max_tokens"] = completion.max_tokens or DEFAULT_MAX_TOKENS  # what the budget holds
    body["stream"] = stream
    if stream:
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    else:
        body.pop("stream_options", None)
    return body


def _reason(value: str | None) -> FinishReason | None:
    if not value:
        return None
    return value if value in _KNOWN_REASONS else "stop"  # type: ignore[return-value]


class UpstreamTextChoice(WireModel):
    text: str = ""
    index: int = 0
    finish_reason: str | None = None


class UpstreamText(WireModel):
    """A `text_completion` object: the whole answer, or one streamed event."""

    id: str = ""
    created: int = 0
    model: str = ""
    choices: list[UpstreamTextChoice] = Field(default_factory=list)
    usage: Usage | None = None
    error: Any = None

    def to_completion(self) -> ChatCompletion:
        choices = [
            Choice(
                index=c.index,
                message=AssistantMessage(content=c.text),
                finish_reason=_reason(c.finish_reason) or "stop",
            )
            for c in self.choices
        ]
        return ChatCompletion(
            id=self.id or "cmpl-upstream",
            created=self.created,
            model=self.model,
            choices=choices,
            usage=complete_usage(self.usage) or Usage(),
        )

    def to_chunk(self) -> UpstreamChunk:
        """The event as the chat chunk the stream reader expects."""
        choices = [
            UpstreamChoice(
                index=c.index,
                delta=UpstreamDelta(content=c.text),
                finish_reason=_reason(c.finish_reason),
            )
            for c in self.choices
        ]
        return UpstreamChunk(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=choices,
            usage=self.usage,
            error=self.error,
        )
