"""`chat.completion` and `chat.completion.chunk` objects, with Baichuan's `knowledge_base.cites`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from .base import WireModel
from .ids import alnum_id

FinishReason = Literal["stop", "length", "tool_calls", "function_call", "content_filter"]


def completion_id() -> str:
    """`chatcmpl-` and 24 random letters or digits."""
    return "chatcmpl-" + alnum_id(24)


class Usage(WireModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def of(cls, prompt: int, completion: int) -> Usage:
        return cls(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage.of(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
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
    reasoning_content: str | None = None  # DeepSeek's (and vLLM's) reasoning, where sent
    tool_calls: list[ToolCallOut] | None = None
    function_call: FunctionCallOut | None = None

    @model_serializer(mode="wrap")
    def _drop_empty_calls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("reasoning_content", "tool_calls", "function_call"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class Cite(WireModel):
    title: str
    content: str
    file_id: str | None = None
    kb_id: str | None = None
    url: str | None = None
    page: int | None = None
    score: float | None = None

    @model_serializer(mode="wrap")
    def _drop_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


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
    system_fingerprint: str | None = None
    knowledge_base: KnowledgeBaseCites | None = None
    search_sources: list[Cite] | None = None

    @model_serializer(mode="wrap")
    def _drop_absent_extensions(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("knowledge_base", "search_sources", "system_fingerprint"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class FunctionCallDelta(WireModel):
    name: str | None = None
    arguments: str | None = None

    @model_serializer(mode="wrap")
    def _drop_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


class ToolCallDelta(WireModel):
    index: int
    id: str | None = None
    type: Literal["function"] | None = None
    function: FunctionCallDelta | None = None

    @model_serializer(mode="wrap")
    def _drop_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


class Delta(WireModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    function_call: FunctionCallDelta | None = None

    @model_serializer(mode="wrap")
    def _drop_none(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}


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
    knowledge_base: KnowledgeBaseCites | None = None
    search_sources: list[Cite] | None = None

    @model_serializer(mode="wrap")
    def _drop_absent_extensions(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("knowledge_base", "search_sources"):
            if data.get(key) is None:
                data.pop(key, None)
        return data
