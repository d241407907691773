"""OpenAI chat request → Gemini `generateContent` request, and Gemini responses → OpenAI."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ...protocol.chat import ChatCompletionRequest, ChatMessage, ImagePart, TextPart
from ...protocol.chat_response import ChatCompletion, FinishReason, Usage
from ...settings import ChannelConfig
from ..chunks import ToolCallParts, completion_from_parts, tool_call_id, tool_finish
from ..errors import UpstreamError, upstream_error
from ..media import split_data_url
from ..reasoning import GEMINI_BUDGETS

Part = dict[str, Any]
# Gemini's `Schema` is an OpenAPI subset: any other JSON Schema keyword is a 400 upstream.
_SCHEMA_KEYS = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
    "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
    "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
}  # fmt: skip
_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}


def unsupported(param: str, message: str) -> UpstreamError:
    return UpstreamError(
        400, message, type="invalid_request_error", param=param, code="unsupported_parameter"
    )


def schema_to_gemini(schema: Any) -> Any:
    """Keep what Gemini's Schema accepts; `type: [x, "null"]` becomes `nullable`."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SCHEMA_KEYS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: schema_to_gemini(sub) for name, sub in value.items()}
        elif key == "items":
            out[key] = schema_to_gemini(value)
        elif key == "anyOf" and isinstance(value, list):
            out[key] = [schema_to_gemini(sub) for sub in value]
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out["type"] = types[0] if len(types) == 1 else value
            if "null" in value:
                out["nullable"] = True
        else:
            out[key] = value
    return out


def _parts(message: ChatMessage, index: int) -> list[Part]:
    if isinstance(message.content, str):
        return [{"text": message.content}] if message.content else []
    parts: list[Part] = []
    for part in message.content or []:
        if isinstance(part, TextPart) and part.text:
            parts.append({"text": part.text})
        elif isinstance(part, ImagePart):
            inline = split_data_url(part.image_url.url)
            if inline is None:
                raise unsupported(
                    f"messages[{index}].content",
                    "Gemini channels take images as data: URLs (base64) only",
                )
            parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}})
    return parts


def _args(raw: str, index: int) -> Any:
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise UpstreamError(
            400,
            f"messages[{index}]: tool call arguments are not valid JSON",
            type="invalid_request_error",
            param=f"messages[{index}]",
        ) from None


def _function_response(name: str, text: str) -> Part:
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    response = value if isinstance(value, dict) else {"content": value}
    return {"functionResponse": {"name": name, "response": response}}


def messages_to_gemini(messages: list[ChatMessage]) -> tuple[Part | None, list[Part]]:
    """`systemInstruction` and `contents` (roles `user`/`model`, same-role turns merged)."""
    system: list[str] = []
    contents: list[Part] = []
    call_names: dict[str, str] = {}  # tool_call_id → function name; Gemini answers by name
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            system.append(message.text())
            continue
        role = "model" if message.role == "assistant" else "user"
        if message.role == "tool":
            name = call_names.get(message.tool_call_id or "", message.name or "")
            parts = [_function_response(name, message.text())]
        elif message.role == "function":
            parts = [_function_response(message.name or "", message.text())]
        else:
            parts = _parts(message, index)
        for call in message.tool_calls or []:
            call_names[call.id] = call.function.name
            args = _args(call.function.arguments, index)
            parts.append({"functionCall": {"name": call.function.name, "args": args}})
        if message.function_call is not None:
            args = _args(message.function_call.arguments, index)
            parts.append({"functionCall": {"name": message.function_call.name, "args": args}})
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    text = "\n\n".join(s for s in system if s)
    return ({"parts": [{"text": text}]} if text else None), contents


def _generation_config(request: ChatCompletionRequest) -> dict[str, Any]:
    config: dict[str, Any] = {
        "temperature": request.temperature,
        "topP": request.top_p,
        "topK": request.top_k or None,  # 0 means "off" for us; Gemini has no such value
        "maxOutputTokens": request.output_limit(),
        "stopSequences": request.stop,
        "candidateCount": request.n if request.n > 1 else None,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
        "seed": request.seed,
    }
    response_format = request.response_format
    if response_format is not None and response_format.type != "text":
        config["responseMimeType"] = "application/json"
        spec = response_format.json_schema
        if spec is not None and spec.schema_:
            config["responseSchema"] = schema_to_gemini(spec.schema_)
    effort = request.reasoning_effort
    if effort is not None:  # see providers/reasoning.py; "none" turns thinking off
        thinking: dict[str, Any] = {"thinkingBudget": GEMINI_BUDGETS[effort]}
        if request.wants_reasoning():
            thinking["includeThoughts"] = True
        config["thinkingConfig"] = thinking
    return {k: v for k, v in config.items() if v is not None}


def _tool_config(request: ChatCompletionRequest) -> Part:
    mode = request.tool_mode()
    config: Part = {"mode": {"auto": "AUTO", "none": "NONE"}.get(mode, "ANY")}
    named = request.named_function()
    if named is not None:
        config["allowedFunctionNames"] = [named]
    return {"functionCallingConfig": config}


def request_to_gemini(request: ChatCompletionRequest, channel: ChannelConfig) -> dict[str, Any]:
    if request.logprobs:
        raise unsupported("logprobs", "Gemini channels do not return log probabilities")
    if request.logit_bias:
        raise unsupported("logit_bias", "Gemini models do not support 'logit_bias'")
    system, contents = messages_to_gemini(request.messages)
    body: dict[str, Any] = {"contents": contents}
    if system is not None:
        body["systemInstruction"] = system
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    functions = request.function_definitions()
    if functions:
        declarations = []
        for f in functions:
            declaration: dict[str, Any] = {"name": f.name}
            if f.description:
                declaration["description"] = f.description
            if f.parameters and f.parameters.get("properties"):
                declaration["parameters"] = schema_to_gemini(f.parameters)
            declarations.append(declaration)
        body["tools"] = [{"functionDeclarations": declarations}]
        body["toolConfig"] = _tool_config(request)
    return body


def finish_from_gemini(
    reason: str | None, called: bool, request: ChatCompletionRequest
) -> FinishReason:
    if called:
        return tool_finish(request)  # Gemini says STOP after a function call
    if reason == "MAX_TOKENS":
        return "length"
    if reason in _FILTERED:
        return "content_filter"
    return "stop"  # STOP, OTHER, MALFORMED_FUNCTION_CALL, LANGUAGE...


def usage_from_gemini(meta: Mapping[str, Any] | None) -> Usage:
    """Thinking tokens are billed as output, so they count as completion tokens (and as its
    reasoning tokens); `cachedContentTokenCount` are the prompt's cached tokens."""
    meta = meta or {}
    thoughts = meta.get("thoughtsTokenCount")
    cached = meta.get("cachedContentTokenCount")
    completion = int(meta.get("candidatesTokenCount") or 0) + int(thoughts or 0)
    return Usage.of(
        int(meta.get("promptTokenCount") or 0),
        completion,
        cached=None if cached is None else int(cached),
        reasoning=None if thoughts is None else int(thoughts),
    )


def parts_of(
    candidate: Mapping[str, Any], request: ChatCompletionRequest
) -> tuple[str, str, list[ToolCallParts]]:
    """A candidate's text, its thoughts (`thought: true` parts, kept only when the client
    asked for reasoning) and its function calls."""
    text: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCallParts] = []
    for part in (candidate.get("content") or {}).get("parts") or []:
        if "text" in part and part.get("thought"):
            if request.wants_reasoning():
                thoughts.append(part["text"])
        elif "text" in part:
            text.append(part["text"])
        elif "functionCall" in part:
            call = part["functionCall"]
            arguments = json.dumps(call.get("args") or {})
            calls.append(ToolCallParts(call.get("id") or tool_call_id(), call["name"], arguments))
    return "".join(text), "".join(thoughts), calls


def gemini_to_openai(
    data: dict[str, Any], request: ChatCompletionRequest, model: str
) -> ChatCompletion:
    candidates = sorted(data.get("candidates") or [], key=lambda c: int(c.get("index") or 0))
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[list[ToolCallParts]] = []
    finishes: list[FinishReason | None] = []
    for candidate in candidates:
        text, thought, found = parts_of(candidate, request)
        texts.append(text)
        reasoning.append(thought)
        calls.append(found)
        finishes.append(finish_from_gemini(candidate.get("finishReason"), bool(found), request))
    if not candidates:  # the prompt itself was blocked (promptFeedback.blockReason)
        texts, calls, finishes = [""], [[]], ["content_filter"]
    return completion_from_parts(
        request,
        model=data.get("modelVersion") or model,
        texts=texts,
        calls=calls,
        finishes=finishes,
        usage=usage_from_gemini(data.get("usageMetadata")),
        id=data.get("responseId"),
        reasoning=reasoning,
    )


# google.rpc status → our code
_CODES = {
    "UNAUTHENTICATED": "upstream_auth_failed",
    "PERMISSION_DENIED": "upstream_permission_denied",
    "NOT_FOUND": "model_not_found",
    "RESOURCE_EXHAUSTED": "rate_limit_exceeded",
    "UNAVAILABLE": "upstream_overloaded",
    "INTERNAL": "upstream_error",
    "DEADLINE_EXCEEDED": "upstream_timeout",
}


def _json_body(raw: bytes) -> Any:
    """The decoded error body, or None when the upstream did not even send JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


def error_from_gemini(status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
    data = _json_body(raw)
    if isinstance(data, list) and data:  # the non-SSE stream endpoint wraps it in an array
        data = data[0]
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        text = raw.decode("utf-8", "replace").strip()[:300] or f"Gemini answered {status}"
        return upstream_error(status, text, headers=headers)
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    reasons = {d.get("reason") for d in details}
    code = "upstream_auth_failed" if "API_KEY_INVALID" in reasons else None
    code = code or _CODES.get(str(error.get("status")))
    delay = next((d["retryDelay"] for d in details if "retryDelay" in d), None)
    out_headers = dict(headers)
    seconds = re.fullmatch(r"(\d+)(\.\d+)?s", delay) if isinstance(delay, str) else None
    if seconds and "retry-after" not in out_headers:  # RetryInfo is Google's Retry-After
        out_headers["retry-after"] = str(max(1, int(seconds.group(1))))
    message = str(error.get("message") or error.get("status") or f"Gemini answered {status}")
    return upstream_error(status, message, code=code, headers=out_headers)
