"""Building OpenAI-shaped output from vendors that speak another protocol.

Adapters hand over text, tool calls and a finish reason; the legacy `functions` spelling
(`function_call` instead of `tool_calls`) is decided here once, from the request. A vendor
that only streams gets its non-stream answer from `collect_completion`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterable
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
from .budget import estimate_tokens, prompt_chars
from .stream import Batch, StreamEnd, delta_chars


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
    reasoning: list[str] | None = None,
) -> ChatCompletion:
    """One choice per index of `texts`/`calls`/`finishes` (and `reasoning`, where given)."""
    legacy = request.uses_legacy_functions()
    choices: list[Choice] = []
    for index, (text, tool_calls, finish) in enumerate(zip(texts, calls, finishes, strict=True)):
        message = AssistantMessage(content=text if text or not tool_calls else None)
        if reasoning is not None and index < len(reasoning) and reasoning[index]:
            message.reasoning_content = reasoning[index]
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


@dataclass
class _ChoiceParts:
    """What the chunks of one choice index streamed, reassembled as OpenAI clients do."""

    texts: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: dict[int, ToolCallParts] = field(default_factory=dict)
    finish: FinishReason | None = None

    def add(self, choice: ChunkChoice) -> None:
        delta = choice.delta
        self.finish = choice.finish_reason or self.finish
        if delta.content:
            self.texts.append(delta.content)
        if delta.reasoning_content:
            self.reasoning.append(delta.reasoning_content)
        for call in delta.tool_calls or ():
            self._call(call.index, call.id, call.function)
        if delta.function_call is not None:
            self._call(0, None, delta.function_call)

    def _call(self, index: int, call_id: str | None, fn: FunctionCallDelta | None) -> None:
        parts = self.calls.get(index)
        if parts is None:
            parts = self.calls[index] = ToolCallParts(call_id or tool_call_id(), "", "")
        if fn is not None:
            parts.name += fn.name or ""
            parts.arguments += fn.arguments or ""


async def collect_completion(
    batches: AsyncIterable[Batch], request: ChatCompletionRequest, model: str
) -> ChatCompletion:
    """The non-stream completion a provider's stream items make: text, reasoning, tool calls
    and finish reason per choice, and the usage of its `StreamEnd` (without one, an estimate
    from the characters, as `ProviderStream` makes)."""
    choices: dict[int, _ChoiceParts] = {}
    end: StreamEnd | None = None
    chars = 0
    first_id: str | None = None
    async for batch in batches:
        for item in batch:
            if isinstance(item, StreamEnd):
                end = item
                continue
            first_id = first_id or item.id
            chars += delta_chars(item)
            for choice in item.choices:
                choices.setdefault(choice.index, _ChoiceParts()).add(choice)
    if end is None:
        end = StreamEnd(Usage.of(estimate_tokens(prompt_chars(request)), estimate_tokens(chars)))
    ordered = [choices[i] for i in sorted(choices)] or [_ChoiceParts()]
    completion = completion_from_parts(
        request,
        model=model,
        texts=["".join(p.texts) for p in ordered],
        calls=[[p.calls[i] for i in sorted(p.calls)] for p in ordered],
        finishes=[p.finish for p in ordered],
        usage=end.usage,
        id=first_id,
    )
    for out, parts in zip(completion.choices, ordered, strict=True):
        out.message.reasoning_content = "".join(parts.reasoning) or None
    return completion


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

    def reasoning(self, text: str, index: int = 0) -> ChatCompletionChunk:
        return self._chunk([ChunkChoice(index=index, delta=Delta(reasoning_content=text))])

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
