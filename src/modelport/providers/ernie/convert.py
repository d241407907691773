"""OpenAI ⇄ ERNIE conversion: requests out (with ERNIE's message-order rule), answers back."""

from __future__ import annotations

import time

from ...protocol.chat import ChatCompletionRequest, ChatMessage
from ...protocol.chat_response import (
    AssistantMessage,
    ChatCompletion,
    Choice,
    FinishReason,
    FunctionCallOut,
    ToolCallOut,
    Usage,
)
from ..chunks import tool_call_id
from ..errors import UpstreamError
from ..reasoning import refuse_reasoning
from .wire import (
    ErnieChatRequest,
    ErnieChatResponse,
    ErnieFunction,
    ErnieFunctionCall,
    ErnieMessage,
    ErnieUsage,
)

_EMPTY_PARAMETERS = {"type": "object", "properties": {}}
_FINISH: dict[str, FinishReason] = {
    "normal": "stop",
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
}


def unsupported(what: str) -> UpstreamError:
    # Another channel of the same model may support it, so routing may try elsewhere.
    return UpstreamError(
        400,
        f"ERNIE channels do not support {what}",
        type="invalid_request_error",
        code="unsupported_by_channel",
        retryable=True,
    )


def openai_to_ernie(
    request: ChatCompletionRequest, *, stream: bool, max_output_cap: int = 2048
) -> ErnieChatRequest:
    """`max_output_cap`: the model's limit (2048 for the 8K models); a larger ask is lowered."""
    _refuse_unsupported(request)
    system, messages = ernie_messages(request.messages)
    functions = None
    if request.tool_mode() == "auto":
        functions = [
            ErnieFunction(
                name=f.name,
                description=f.description or f.name,  # ERNIE requires a description
                parameters=f.parameters or dict(_EMPTY_PARAMETERS),
            )
            for f in request.function_definitions()
        ]
    fmt = request.response_format
    return ErnieChatRequest(
        messages=messages,
        system=system,
        functions=functions,
        temperature=_ernie_temperature(request.temperature),
        top_p=request.top_p,
        penalty_score=_penalty_score(request),
        max_output_tokens=min(max(2, limit), max_output_cap)
        if (limit := request.output_limit())
        else None,
        stop=list(request.stop) if request.stop else None,
        user_id=request.user,
        response_format="json_object" if fmt is not None and fmt.type == "json_object" else None,
        stream=stream,
    )


def _refuse_unsupported(request: ChatCompletionRequest) -> None:
    if request.n != 1:
        raise unsupported("n > 1")
    if any(m.has_images() for m in request.messages):
        raise unsupported("image inputs")
    if request.logprobs:
        raise unsupported("logprobs")
    if request.response_format is not None and request.response_format.type == "json_schema":
        raise unsupported("response_format json_schema")
    if request.tool_mode() in ("required", "named"):
        raise unsupported("forcing a function call (tool_choice / function_call)")
    refuse_reasoning(request, "ERNIE")


def _ernie_temperature(value: float | None) -> float | None:
    # ERNIE accepts (0, 1]; OpenAI's 0 means "as deterministic as possible".
    return None if value is None else min(max(value, 0.01), 1.0)


def _penalty_score(request: ChatCompletionRequest) -> float | None:
    """ERNIE's single repetition penalty in [1, 2] from OpenAI's two in [-2, 2]."""
    penalties = [p for p in (request.presence_penalty, request.frequency_penalty) if p is not None]
    if not penalties:
        return None
    return 1.0 + max(0.0, max(penalties)) / 2.0


def ernie_messages(messages: list[ChatMessage]) -> tuple[str | None, list[ErnieMessage]]:
    """System text plus a message list ERNIE accepts: user/function and assistant alternate,
    starting and ending with the user side (so the count is odd)."""
    system_parts: list[str] = []
    flat: list[ErnieMessage] = []
    call_names: dict[str, str] = {}
    for m in messages:
        if m.role in ("system", "developer"):
            system_parts.append(m.text())
        elif m.role == "user":
            flat.append(ErnieMessage(role="user", content=m.text()))
        elif m.role == "assistant":
            for call in m.tool_calls or []:
                call_names[call.id] = call.function.name
            flat.extend(_assistant(m))
        else:  # tool / function results
            name = m.name if m.role == "function" else call_names.get(m.tool_call_id or "")
            flat.append(ErnieMessage(role="function", name=name or "function", content=m.text()))
    system = "\n\n".join(p for p in system_parts if p) or None
    repaired = _alternate(flat)
    if not repaired:
        if system is None:
            raise UpstreamError(
                400, "the conversation has no user message", code="invalid_messages"
            )
        return None, [ErnieMessage(role="user", content=system)]
    return system, repaired


def _assistant(m: ChatMessage) -> list[ErnieMessage]:
    call = m.function_call or (m.tool_calls[0].function if m.tool_calls else None)
    # ERNIE holds one call per message; a text-less, call-less turn carries nothing.
    if call is None and not m.text():
        return []
    fc = ErnieFunctionCall(name=call.name, arguments=call.arguments) if call else None
    return [ErnieMessage(role="assistant", content=m.text(), function_call=fc)]


def _side(m: ErnieMessage) -> str:
    return "assistant" if m.role == "assistant" else "user"


def _alternate(flat: list[ErnieMessage]) -> list[ErnieMessage]:
    groups: list[list[ErnieMessage]] = []
    for m in flat:
        if groups and _side(groups[-1][0]) == _side(m):
            groups[-1].append(m)
        else:
            groups.append([m])
    merged = [_merge(g) for g in groups]
    while merged and merged[0].role == "assistant":  # ERNIE must open with the user
        merged.pop(0)
    while merged and merged[-1].role == "assistant":  # ... and end with the user
        merged.pop()
    if merged and merged[0].role == "function":  # the first message may not be a function
        merged[0] = ErnieMessage(role="user", content=_as_text(merged[0]))
    return merged


def _merge(group: list[ErnieMessage]) -> ErnieMessage:
    if len(group) == 1:
        return group[0]
    if group[0].role == "assistant":
        calls = [m.function_call for m in group if m.function_call is not None]
        text = "\n\n".join(m.content for m in group if m.content)
        return ErnieMessage(
            role="assistant", content=text, function_call=calls[-1] if calls else None
        )
    if all(m.role == "function" for m in group):
        text = "\n\n".join(_as_text(m) for m in group)
        return ErnieMessage(role="function", name=group[0].name, content=text)
    text = "\n\n".join(m.content if m.role == "user" else _as_text(m) for m in group)
    return ErnieMessage(role="user", content=text)


def _as_text(m: ErnieMessage) -> str:
    return f"[{m.name} returned] {m.content}"


def finish_reason(response: ErnieChatResponse, request: ChatCompletionRequest) -> FinishReason:
    if response.function_call is not None:
        return "function_call" if request.uses_legacy_functions() else "tool_calls"
    if response.need_clear_history:
        return "content_filter"
    if response.is_truncated:
        return "length"
    return _FINISH.get(response.finish_reason or "normal", "stop")


def usage_of(usage: ErnieUsage | None) -> Usage:
    if usage is None:
        return Usage()
    return Usage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
    )


def ernie_to_openai(
    response: ErnieChatResponse, request: ChatCompletionRequest, model: str
) -> ChatCompletion:
    message = AssistantMessage(content=response.result)
    call = response.function_call
    if call is not None:
        out = FunctionCallOut(name=call.name, arguments=call.arguments)
        message.content = response.result or None
        if request.uses_legacy_functions():
            message.function_call = out
        else:
            message.tool_calls = [ToolCallOut(id=tool_call_id(), function=out)]
    return ChatCompletion(
        created=response.created or int(time.time()),
        model=model,
        choices=[Choice(index=0, message=message, finish_reason=finish_reason(response, request))],
        usage=usage_of(response.usage),
    )
