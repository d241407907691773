"""OpenAI chat request → Anthropic Messages request, and Messages response → OpenAI completion."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ...protocol.chat import ChatCompletionRequest, ChatMessage, ImagePart, TextPart
from ...protocol.chat_response import ChatCompletion, FinishReason, Usage
from ...settings import ChannelConfig
from ..chunks import ToolCallParts, completion_from_parts, tool_finish
from ..errors import UpstreamError, upstream_error
from ..http_client import parse_json
from ..media import split_data_url
from ..reasoning import ANTHROPIC_BUDGETS, ANTHROPIC_MIN_BUDGET
from .options import AnthropicOptions

VENDOR = "Anthropic"
DEFAULT_MAX_TOKENS = 4096
Block = dict[str, Any]


def unsupported(param: str, message: str) -> UpstreamError:
    return UpstreamError(
        400, message, type="invalid_request_error", param=param, code="unsupported_parameter"
    )


def _refuse_unsupported(request: ChatCompletionRequest) -> None:
    """Anthropic has no equivalent for these; refusing beats silently answering differently."""
    if request.n > 1:
        raise unsupported("n", "Anthropic models return one choice per request; 'n' must be 1")
    if request.logprobs:
        raise unsupported("logprobs", "Anthropic models do not return log probabilities")
    if request.logit_bias:
        raise unsupported("logit_bias", "Anthropic models do not support 'logit_bias'")
    if request.response_format is not None and request.response_format.type != "text":
        raise unsupported("response_format", "Anthropic models have no JSON response mode")
    for name in ("presence_penalty", "frequency_penalty"):
        if getattr(request, name):
            raise unsupported(name, f"Anthropic models do not support '{name}'")


def _content_blocks(message: ChatMessage) -> list[Block]:
    if isinstance(message.content, str):
        return [{"type": "text", "text": message.content}] if message.content else []
    blocks: list[Block] = []
    for part in message.content or []:
        if isinstance(part, TextPart) and part.text:
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            inline = split_data_url(part.image_url.url)
            source = (
                {"type": "base64", "media_type": inline[0], "data": inline[1]}
                if inline
                else {"type": "url", "url": part.image_url.url}
            )
            blocks.append({"type": "image", "source": source})
    return blocks


def _arguments(raw: str, index: int) -> Any:
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise UpstreamError(
            400,
            f"messages[{index}]: tool call arguments are not valid JSON",
            type="invalid_request_error",
            param=f"messages[{index}]",
        ) from None


def messages_to_claude(messages: list[ChatMessage]) -> tuple[str | None, list[Block]]:
    """The top-level `system` text and alternating user/assistant messages of content blocks."""
    system: list[str] = []
    turns: list[Block] = []
    legacy_ids: dict[str, str] = {}  # function name → id of its latest legacy call
    for index, message in enumerate(messages):
        role = "assistant" if message.role == "assistant" else "user"
        if message.role in ("system", "developer"):
            system.append(message.text())
            continue
        if message.role == "tool":
            blocks: list[Block] = [
                {
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id,
                    "content": message.text(),
                }
            ]
        elif message.role == "function":
            call_id = legacy_ids.get(message.name or "", f"call_{message.name}")
            blocks = [{"type": "tool_result", "tool_use_id": call_id, "content": message.text()}]
        else:
            blocks = _content_blocks(message)
        for call in message.tool_calls or []:
            arguments = _arguments(call.function.arguments, index)
            blocks.append(
                {"type": "tool_use", "id": call.id, "name": call.function.name, "input": arguments}
            )
        if message.function_call is not None:
            call_id = legacy_ids[message.function_call.name] = f"call_{index}"
            arguments = _arguments(message.function_call.arguments, index)
            name = message.function_call.name
            blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:  # Anthropic wants strictly alternating roles
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:  # tool results must open a user turn
        turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    return ("\n\n".join(s for s in system if s) or None), turns


def _tool_choice(request: ChatCompletionRequest) -> Block | None:
    mode = request.tool_mode()
    if mode == "none":
        return {"type": "none"} if request.function_definitions() else None
    choice: Block = {"auto": {"type": "auto"}, "required": {"type": "any"}}.get(mode) or {
        "type": "tool",
        "name": request.named_function(),
    }
    if request.parallel_tool_calls is False or request.uses_legacy_functions():
        choice["disable_parallel_tool_use"] = True  # legacy function_call holds only one call
    return choice


def upstream_model(request: ChatCompletionRequest, channel: ChannelConfig) -> str:
    return channel.upstream_model or request.model


def output_and_thinking(
    request: ChatCompletionRequest, default_limit: int
) -> tuple[int, Block | None]:
    """`max_tokens` and the `thinking` block for `reasoning_effort` (see providers/reasoning.py).
    Thinking counts against `max_tokens`, and Anthropic wants 1024 <= budget < max_tokens: a
    client's limit keeps its value and the budget is kept below it (a 400 when that leaves
    less than 1024); without one, the default limit is left for the answer on top of the
    budget."""
    limit = request.output_limit()
    effort = request.reasoning_effort
    if effort is None or effort == "none":
        return limit or default_limit, None
    budget = ANTHROPIC_BUDGETS[effort]
    if limit is None:
        return default_limit + budget, {"type": "enabled", "budget_tokens": budget}
    budget = min(budget, limit - 1)
    if budget < ANTHROPIC_MIN_BUDGET:
        raise unsupported(
            "max_tokens",
            f"Anthropic channels think on a budget of at least {ANTHROPIC_MIN_BUDGET} tokens "
            f"below max_tokens: reasoning_effort needs max_tokens above {ANTHROPIC_MIN_BUDGET}",
        )
    return limit, {"type": "enabled", "budget_tokens": budget}


def request_to_claude(
    request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
) -> dict[str, Any]:
    _refuse_unsupported(request)
    system, messages = messages_to_claude(request.messages)
    default_limit = channel.typed_options(AnthropicOptions).max_tokens
    if default_limit is None:
        default_limit = DEFAULT_MAX_TOKENS
    max_tokens, thinking = output_and_thinking(request, default_limit)
    body: dict[str, Any] = {
        "model": upstream_model(request, channel),
        "messages": messages,
        "max_tokens": max_tokens,
        "stream": stream,
    }
    if thinking is not None:
        body["thinking"] = thinking
    optional = {
        "system": system,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k or None,  # 0 means "off" for us; Anthropic has no such value
        "stop_sequences": request.stop,
        "metadata": {"user_id": request.user} if request.user else None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    functions = request.function_definitions()
    if functions:
        body["tools"] = [
            {
                "name": f.name,
                **({"description": f.description} if f.description else {}),
                "input_schema": f.parameters or {"type": "object", "properties": {}},
            }
            for f in functions
        ]
        body["tool_choice"] = _tool_choice(request)
    return body


def finish_from_claude(stop_reason: str | None, request: ChatCompletionRequest) -> FinishReason:
    if stop_reason == "tool_use":
        return tool_finish(request)
    if stop_reason in ("max_tokens", "model_context_window_exceeded"):
        return "length"
    if stop_reason == "refusal":
        return "content_filter"
    return "stop"  # end_turn, stop_sequence, pause_turn


def usage_from_claude(usage: Mapping[str, Any]) -> tuple[int, int]:
    """(prompt, completion): cache reads and writes are prompt tokens too, as in OpenAI."""
    prompt = sum(
        int(usage.get(k) or 0)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    return prompt, int(usage.get("output_tokens") or 0)


def cached_from_claude(usage: Mapping[str, Any]) -> int | None:
    """Prompt tokens read from the cache; None when none were (Anthropic reports 0 on every
    answer, and the usage's wire shape stays as it was without caching). Anthropic does not
    count thinking tokens apart from the rest of the output, so no reasoning count is given."""
    value = usage.get("cache_read_input_tokens")
    return int(value) if value else None


def claude_to_openai(data: dict[str, Any], request: ChatCompletionRequest) -> ChatCompletion:
    texts: list[str] = []
    thoughts: list[str] = []  # redacted_thinking blocks are encrypted: nothing to show
    calls: list[ToolCallParts] = []
    for block in data["content"]:
        if block["type"] == "text":
            texts.append(block["text"])
        elif block["type"] == "thinking":
            thoughts.append(block.get("thinking") or "")
        elif block["type"] == "tool_use":
            calls.append(ToolCallParts(block["id"], block["name"], json.dumps(block["input"])))
    prompt, completion = usage_from_claude(data["usage"])
    return completion_from_parts(
        request,
        id=data["id"],
        model=data["model"],
        texts=["".join(texts)],
        calls=[calls],
        finishes=[finish_from_claude(data.get("stop_reason"), request)],
        usage=Usage.of(prompt, completion, cached=cached_from_claude(data["usage"])),
        reasoning=["".join(thoughts)],
    )


# Anthropic error type → (our type, our code)
_ERRORS: dict[str, tuple[str, str | None]] = {
    "invalid_request_error": ("invalid_request_error", None),
    "authentication_error": ("upstream_error", "upstream_auth_failed"),
    "permission_error": ("upstream_error", "upstream_permission_denied"),
    "billing_error": ("upstream_error", "upstream_billing"),
    "not_found_error": ("invalid_request_error", "model_not_found"),
    "request_too_large": ("invalid_request_error", "request_too_large"),
    "rate_limit_error": ("rate_limit_error", "rate_limit_exceeded"),
    "api_error": ("server_error", "upstream_error"),
    "overloaded_error": ("server_error", "upstream_overloaded"),
}
# For `error` events inside a stream, which carry no HTTP status of their own.
STATUS_OF_ERROR_TYPE = {"rate_limit_error": 429, "overloaded_error": 529, "api_error": 500}


def _error_body(raw: bytes) -> Any:
    """The decoded error body, or None when the upstream did not even send JSON."""
    try:
        return parse_json(raw, VENDOR)
    except UpstreamError:
        return None


def error_from_claude(status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
    data = _error_body(raw)
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        text = raw.decode("utf-8", "replace").strip()[:300] or f"{VENDOR} answered {status}"
        return upstream_error(status, text, headers=headers)
    kind = str(error.get("type") or "")
    our_type, code = _ERRORS.get(kind, (None, None))
    message = str(error.get("message") or kind or f"{VENDOR} answered {status}")
    return upstream_error(status, message, type=our_type, code=code, headers=headers)
