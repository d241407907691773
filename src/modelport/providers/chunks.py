"""Building OpenAI-shaped output from vendors that speak another protocol.

Adapters hand over text, tool calls and a finish reason; the legacy `functions` spelling
(`function_call` instead of `tool_calls`) is decided here once, from the request.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    FunctionCallDelta,
    FunctionCallOut,
    ToolCallDelta,
    ToolCallOut,
    Usage,
    completion_id,
)


def tool_call_id() -> str:
    return "call_" + secrets.token_hex(12)


@dataclass
class ToolCallParts:
    id: str
    name: str
    arguments: str


def completion_from_parts(
    request: ChatCompletionRequest,
    *,
    model: str,
    texts: list[str],
    calls: list[list[ToolCallParts]],
    finishes: list[FinishReason | None],
    usage: Usage,
    id: str | None = None,
) -> ChatCompletion:
    """One choice per index of `texts`/`calls`/`finishes`."""
    legacy = request.uses_legacy_functions()
    choices: list[Choice] = []
    for index, (text, tool_calls, finish) in enumerate(zip(texts, calls, finishes, strict=True)):
        message = AssistantMessage(content=text if text or not tool_calls else None)
        if tool_calls and legacy:
            first = tool_calls[0]
            message.function_call = FunctionCallOut(name=first.name, arguments=first.arguments)
        elif tool_calls:
            message.tool_calls = [
                ToolCallOut(id=c.id, function=FunctionCallOut(name=c.name, arguments=c.arguments))
                for c in tool_calls
            ]
        choices.append(Choice(index=index, message=message, finish_reason=finish))
    return ChatCompletion(
        id=id or completion_id(),
        created=int(time.time()),
        model=model,
        choices=choices,
        usage=usage,
    )


def tool_finish(request: ChatCompletionRequest) -> FinishReason:
    return "function_call" if request.uses_legacy_functions() else "tool_calls"


@dataclass
class ChunkBuilder:
    """Chunks of one streamed completion, sharing id/created/model."""

    request: ChatCompletionRequest
    model: str
    id: str = field(default_factory=completion_id)
    created: int = field(default_factory=lambda: int(time.time()))

    def _chunk(self, choices: list[ChunkChoice], usage: Usage | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self.id, created=self.created, model=self.model, choices=choices, usage=usage
        )

    def role(self, index: int = 0) -> ChatCompletionChunk:
        return self._chunk([ChunkChoice(index=index, delta=Delta(role="assistant", content=""))])

    def text(self, text: str, index: int = 0) -> ChatCompletionChunk:
        return self._chunk([ChunkChoice(index=index, delta=Delta(content=text))])

    def tool_start(
        self, call_index: int, call_id: str, name: str, arguments: str = "", index: int = 0
    ) -> ChatCompletionChunk:
        """A tool call's first delta: id and name (and any arguments already known)."""
        if self.request.uses_legacy_functions():
            delta = Delta(function_call=FunctionCallDelta(name=name, arguments=arguments))
        else:
            delta = Delta(
                tool_calls=[
                    ToolCallDelta(
                        index=call_index,
                        id=call_id,
                        type="function",
                        function=FunctionCallDelta(name=name, arguments=arguments),
                    )
                ]
            )
        return self._chunk([ChunkChoice(index=index, delta=delta)])

    def tool_arguments(self, call_index: int, fragment: str, index: int = 0) -> ChatCompletionChunk:
        if self.request.uses_legacy_functions():
            delta = Delta(function_call=FunctionCallDelta(arguments=fragment))
        else:
            delta = Delta(
                tool_calls=[
                    ToolCallDelta(index=call_index, function=FunctionCallDelta(arguments=fragment))
                ]
            )
        return self._chunk([ChunkChoice(index=index, delta=delta)])

    def finish(self, reason: FinishReason, index: int = 0) -> ChatCompletionChunk:
        return self._chunk([ChunkChoice(index=index, delta=Delta(), finish_reason=reason)])

    def usage(self, usage: Usage) -> ChatCompletionChunk:
        return self._chunk([], usage)
