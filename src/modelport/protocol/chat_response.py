"""`chat.completion` and `chat.completion.chunk` objects, with Baichuan's `knowledge_base.cites`."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator

from .base import WireModel
from .ids import alnum_id

FinishReason = Literal["stop", "length", "tool_calls", "function_call", "content_filter"]


def _absent(value: object) -> bool:
    return value is None


def optional() -> Any:
    """A field left out of the JSON when it is None (OpenAI omits absent fields, e.g. a
    delta's `tool_calls`); the other None fields are sent as `null`."""
    return Field(default=None, exclude_if=_absent)


def completion_id() -> str:
    """`chatcmpl-` and 24 random letters or digits."""
    return "chatcmpl-" + alnum_id(24)


# Vendors' counts are read as numbers whatever their size (then bounded before booking).
_COUNT_LIMIT = 2**62


def _a_count(value: Any) -> Any:
    if value is None:
        return 0
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return max(min(value, _COUNT_LIMIT), -_COUNT_LIMIT)
    return value


class PromptTokensDetails(WireModel):
    """Of the prompt tokens, those read from the vendor's prompt cache (billed lower)."""

    cached_tokens: int = 0

    _count = field_validator("cached_tokens", mode="before")(_a_count)


class CompletionTokensDetails(WireModel):
    """Of the completion tokens, those spent reasoning (billed as completion)."""

    reasoning_tokens: int = 0

    _count = field_validator("reasoning_tokens", mode="before")(_a_count)


class Usage(WireModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    # OpenAI's breakdowns, sent only where the upstream reported them.
    prompt_tokens_details: PromptTokensDetails | None = optional()
    completion_tokens_details: CompletionTokensDetails | None = optional()

    _counts = field_validator("prompt_tokens", "completion_tokens", "total_tokens", mode="before")(
        _a_count
    )

    @classmethod
    def of(
        cls,
        prompt: int,
        completion: int,
        *,
        cached: int | None = None,
        reasoning: int | None = None,
    ) -> Usage:
        """Counts, with the details where known (None: not reported)."""
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            prompt_tokens_details=None
            if cached is None
            else PromptTokensDetails(cached_tokens=cached),
            completion_tokens_details=None
            if reasoning is None
            else CompletionTokensDetails(reasoning_tokens=reasoning),
        )

    @property
    def cached_tokens(self) -> int:
        details = self.prompt_tokens_details
        return details.cached_tokens if details is not None else 0

    @property
    def reasoning_tokens(self) -> int:
        details = self.completion_tokens_details
        return details.reasoning_tokens if details is not None else 0

    def with_counts(self, prompt: int, completion: int) -> Usage:
        """These counts, the details kept (bounded: cached <= prompt, reasoning <= completion,
        none negative)."""
        cached = reasoning = None
        if self.prompt_tokens_details is not None:
            cached = min(max(self.cached_tokens, 0), max(prompt, 0))
        if self.completion_tokens_details is not None:
            reasoning = min(max(self.reasoning_tokens, 0), max(completion, 0))
        return Usage.of(prompt, completion, cached=cached, reasoning=reasoning)

    def __add__(self, other: Usage) -> Usage:
        def both(a: Any, b: Any, mine: int, theirs: int) -> int | None:
            return None if a is None and b is None else mine + theirs

        return Usage.of(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            cached=both(
                self.prompt_tokens_details,
                other.prompt_tokens_details,
                self.cached_tokens,
                other.cached_tokens,
            ),
            reasoning=both(
                self.completion_tokens_details,
                other.completion_tokens_details,
                self.reasoning_tokens,
                other.reasoning_tokens,
            ),
        )


class FunctionCallOut(WireModel):
    name: str
    arguments: str


class ToolCallOut(WireModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallOut


class AssistantMessage(WireModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    reasoning_content: str | None = optional()  # DeepSeek's (and vLLM's) reasoning, where sent
    tool_calls: list[ToolCallOut] | None = optional()
    function_call: FunctionCallOut | None = optional()


class Cite(WireModel):
    title: str
    content: str
    file_id: str | None = optional()
    kb_id: str | None = optional()
    url: str | None = optional()
    page: int | None = optional()
    heading: str | None = optional()  # the passage's section ("Chapter 1 > Leave"), if known
    score: float | None = optional()


class KnowledgeBaseCites(WireModel):
    cites: list[Cite] = Field(default_factory=list)


class Choice(WireModel):
    index: int
    message: AssistantMessage
    finish_reason: FinishReason | None = None
    logprobs: Any | None = None


class ChatCompletion(WireModel):
    id: str = Field(default_factory=completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: str | None = optional()
    knowledge_base: KnowledgeBaseCites | None = optional()
    search_sources: list[Cite] | None = optional()


class FunctionCallDelta(WireModel):
    name: str | None = optional()
    arguments: str | None = optional()


class ToolCallDelta(WireModel):
    index: int
    id: str | None = optional()
    type: Literal["function"] | None = optional()
    function: FunctionCallDelta | None = optional()


class Delta(WireModel):
    role: Literal["assistant"] | None = optional()
    content: str | None = optional()
    reasoning_content: str | None = optional()
    tool_calls: list[ToolCallDelta] | None = optional()
    function_call: FunctionCallDelta | None = optional()


class ChunkChoice(WireModel):
    index: int
    delta: Delta
    finish_reason: FinishReason | None = None
    logprobs: Any | None = None


class ChatCompletionChunk(WireModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None
    knowledge_base: KnowledgeBaseCites | None = optional()
    search_sources: list[Cite] | None = optional()
