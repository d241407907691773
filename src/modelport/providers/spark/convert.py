"""OpenAI ⇄ Spark conversion: the request frame out, response frames back as chunks."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ...protocol.chat import ChatCompletionRequest, ChatMessage
from ...protocol.chat_response import (
    ChatCompletionChunk,
    ChunkChoice,
    Delta,
    FinishReason,
    FunctionCallDelta,
    ToolCallDelta,
    Usage,
    completion_id,
)
from ..chunks import tool_call_id, tool_finish
from ..errors import UpstreamError
from ..reasoning import refuse_reasoning
from ..stream import StreamEnd
from .wire import (
    SparkChatParameters,
    SparkFrame,
    SparkFunction,
    SparkFunctions,
    SparkHeader,
    SparkMessage,
    SparkMessages,
    SparkParameter,
    SparkPayload,
    SparkRequest,
)

_EMPTY_PARAMETERS = {"type": "object", "properties": {}}
SPARK_MAX_TOP_K = 6


def unsupported(what: str) -> UpstreamError:
    # Another channel of the same model may support it, so routing may try elsewhere.
    return UpstreamError(
        400,
        f"Spark channels do not support {what}",
        type="invalid_request_error",
        code="unsupported_by_channel",
        retryable=True,
    )


@dataclass(frozen=True)
class SparkTarget:
    app_id: str
    domain: str
    max_tokens_cap: int


def openai_to_spark(request: ChatCompletionRequest, target: SparkTarget) -> SparkRequest:
    _refuse_unsupported(request)
    functions = None
    if request.tool_mode() == "auto":
        functions = SparkFunctions(
            text=[
                SparkFunction(
                    name=f.name,
                    description=f.description or f.name,
                    parameters=f.parameters or dict(_EMPTY_PARAMETERS),
                )
                for f in request.function_definitions()
            ]
        )
    limit = request.output_limit()
    chat = SparkChatParameters(
        domain=target.domain,
        # Spark documents temperature in (0, 1]; OpenAI's 0 means "as greedy as possible".
        temperature=None if request.temperature is None else min(max(request.temperature, 0.01), 1),
        top_k=min(request.top_k, SPARK_MAX_TOP_K) if request.top_k else None,
        max_tokens=min(limit, target.max_tokens_cap) if limit else None,
    )
    return SparkRequest(
        header=SparkHeader(app_id=target.app_id, uid=request.user[:32] if request.user else None),
        parameter=SparkParameter(chat=chat),
        payload=SparkPayload(
            message=SparkMessages(text=spark_messages(request.messages)), functions=functions
        ),
    )


def _refuse_unsupported(request: ChatCompletionRequest) -> None:
    if request.n != 1:
        raise unsupported("n > 1")
    if any(m.has_images() for m in request.messages):
        raise unsupported("image inputs")
    if request.logprobs:
        raise unsupported("logprobs")
    if request.stop:
        raise unsupported("stop sequences")
    if request.response_format is not None and request.response_format.type != "text":
        raise unsupported(f"response_format {request.response_format.type}")
    if request.tool_mode() in ("required", "named"):
        raise unsupported("forcing a function call (tool_choice / function_call)")
    refuse_reasoning(request, "Spark")


def spark_messages(messages: list[ChatMessage]) -> list[SparkMessage]:
    """One leading system message, then user/assistant turns with same-role runs merged.

    Spark's chat text has no function-result role, so calls and results travel as text.
    """
    system: list[str] = []
    turns: list[SparkMessage] = []
    for m in messages:
        if m.role in ("system", "developer"):
            system.append(m.text())
            continue
        role, text = _turn(m)
        if not text:
            continue
        if turns and turns[-1].role == role:
            turns[-1].content += "\n\n" + text
        else:
            turns.append(SparkMessage(role=role, content=text))
    while turns and turns[-1].role == "assistant":  # Spark answers the last user turn
        turns.pop()
    head = [SparkMessage(role="system", content="\n\n".join(system))] if any(system) else []
    if not turns:
        if not head:
            raise UpstreamError(
                400,
                "the conversation has no user message",
                type="invalid_request_error",
                code="invalid_messages",
            )
        return [SparkMessage(role="user", content=head[0].content)]
    return head + turns


def _turn(m: ChatMessage) -> tuple[str, str]:
    if m.role == "user":
        return "user", m.text()
    if m.role == "assistant":
        calls = [(c.function.name, c.function.arguments) for c in m.tool_calls or []]
        if m.function_call is not None:
            calls.append((m.function_call.name, m.function_call.arguments))
        said = [m.text()] + [f"[called {name} with {args}]" for name, args in calls]
        return "assistant", "\n".join(s for s in said if s)
    label = m.name or m.tool_call_id or "function"
    return "user", f"[{label} returned] {m.text()}"


def usage_of(frame: SparkFrame) -> Usage | None:
    if frame.payload is None or frame.payload.usage is None:
        return None
    u = frame.payload.usage.text
    return Usage(
        prompt_tokens=u.prompt_tokens,
        completion_tokens=u.completion_tokens,
        total_tokens=u.total_tokens or u.prompt_tokens + u.completion_tokens,
    )


class SparkChunks:
    """One stream's frames → chunks (one per frame, the last with the finish reason), then a
    `StreamEnd` with the usage of the last frame when Spark reported it."""

    def __init__(self, request: ChatCompletionRequest) -> None:
        self._request = request
        self._legacy = request.uses_legacy_functions()
        self._id, self._created = completion_id(), int(time.time())
        self._first = True
        self._called = False
        self._usage: Usage | None = None

    def read(self, frame: SparkFrame) -> ChatCompletionChunk:
        items = frame.payload.choices.text if frame.payload else []
        delta = Delta(
            role="assistant" if self._first else None,
            content="".join(i.content for i in items) or None,
        )
        self._first = False
        call = next((i.function_call for i in items if i.function_call is not None), None)
        if call is not None:
            self._called = True
            fn = FunctionCallDelta(name=call.name, arguments=call.arguments)
            if self._legacy:
                delta.function_call = fn
            else:
                delta.tool_calls = [
                    ToolCallDelta(index=0, id=tool_call_id(), type="function", function=fn)
                ]
        finish: FinishReason | None = None
        if frame.is_last():
            finish = tool_finish(self._request) if self._called else "stop"
            self._usage = usage_of(frame)
        return ChatCompletionChunk(
            id=self._id,
            created=self._created,
            model=self._request.model,
            choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)],
        )

    def end(self) -> StreamEnd | None:
        """The usage Spark reported (none: `ProviderStream` estimates it)."""
        return None if self._usage is None else StreamEnd(self._usage)
