"""A fake Gemini API: `POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent`.

Auth as Google does it: the key comes in `x-goog-api-key` (or `?key=`); a missing key is
403 PERMISSION_DENIED, a wrong one 400 INVALID_ARGUMENT with reason API_KEY_INVALID. Request
bodies are checked like a protobuf endpoint: unknown fields (top level, `generationConfig`,
function schemas) are a 400 "Unknown name", roles must be `user`/`model`, and function
responses must answer the function-call turn right before them, one for one.

Deterministic: "Echo: <last user text>" per candidate (`candidateCount`); a `functionCall`
when tools are declared and the text contains "call" (or mode ANY); "Result: <response>"
after a functionResponse. "unsafe" in the text ends with SAFETY, "blockprompt" blocks the
prompt. Words are tokens. Bodies are recorded in `app.state.requests`.

Misbehaviour, by header `x-fake-fault` or `FAULT:<name>` in the last user text: `429`
(RESOURCE_EXHAUSTED with RetryInfo), `500` (INTERNAL), `503` (UNAVAILABLE), `garbage`,
`truncate` (the stream stops before any finishReason), `reset` (connection dropped).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

DEFAULT_KEYS = frozenset({"gm-test-1", "gm-test-2"})
_FAULT = re.compile(r"FAULT:([\w-]+)")
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
_STATUS |= {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_TOP_FIELDS = {
    "contents", "systemInstruction", "generationConfig", "tools", "toolConfig",
    "safetySettings", "cachedContent",
}  # fmt: skip
_CONFIG_FIELDS = {
    "temperature", "topP", "topK", "maxOutputTokens", "stopSequences", "candidateCount",
    "presencePenalty", "frequencyPenalty", "seed", "responseMimeType", "responseSchema",
    "responseLogprobs", "logprobs", "thinkingConfig",
}  # fmt: skip
_SCHEMA_FIELDS = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
    "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
    "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
}  # fmt: skip


class ConnectionReset(Exception):
    """Raised inside a streaming body so the server drops the connection mid-response."""


class Invalid(Exception):
    def __init__(self, message: str, status: int = 400, details: list[Any] | None = None):
        super().__init__(message)
        self.message, self.status, self.details = message, status, details or []


def _error(exc: Invalid, headers: dict[str, str] | None = None) -> Response:
    error = {"code": exc.status, "message": exc.message, "status": _STATUS[exc.status]}
    if exc.details:
        error["details"] = exc.details
    return JSONResponse({"error": error}, status_code=exc.status, headers=headers)


def _unknown(name: str, where: str) -> Invalid:
    return Invalid(
        f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field."
    )


def _check_schema(schema: Any, where: str) -> None:
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key not in _SCHEMA_FIELDS:
            raise _unknown(key, where)
        if key == "properties":
            for name, sub in value.items():
                _check_schema(sub, f"{where}.properties[{name}].value")
        elif key == "items":
            _check_schema(value, f"{where}.items")


def _check_contents(contents: Any) -> None:
    if not isinstance(contents, list) or not contents:
        raise Invalid("* GenerateContentRequest.contents: contents is not specified")
    previous_calls = 0
    for i, content in enumerate(contents):
        if content.get("role") not in ("user", "model"):
            raise Invalid("Please use a valid role: user, model.")
        parts = content.get("parts") or []
        if not parts:
            raise Invalid(
                f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            )
        responses = sum(1 for p in parts if "functionResponse" in p)
        if responses and responses != previous_calls:
            raise Invalid(
                "Please ensure that the number of function response parts is equal to the "
                "number of function call parts of the function call turn."
            )
        previous_calls = sum(1 for p in parts if "functionCall" in p)


def _validate(body: Any) -> None:
    if not isinstance(body, dict):
        raise Invalid("Invalid JSON payload received.")
    for key in body:
        if key not in _TOP_FIELDS:
            raise _unknown(key, "")
    for key in body.get("generationConfig") or {}:
        if key not in _CONFIG_FIELDS:
            raise _unknown(key, "generation_config")
    _check_schema((body.get("generationConfig") or {}).get("responseSchema"), "response_schema")
    for t, tool in enumerate(body.get("tools") or []):
        for d, declaration in enumerate(tool.get("functionDeclarations") or []):
            where = f"tools[{t}].function_declarations[{d}].parameters"
            _check_schema(declaration.get("parameters"), where)
    _check_contents(body.get("contents"))


def _text(content: dict[str, Any]) -> str:
    return " ".join(p["text"] for p in content["parts"] if "text" in p)


def _candidate_parts(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, int]:
    """(parts, finishReason, prompt tokens) of one candidate."""
    contents = body["contents"]
    last = contents[-1]
    text = _text(last)
    system = _text(body["systemInstruction"]) if body.get("systemInstruction") else ""
    prompt = len(system.split()) + sum(len(_text(c).split()) for c in contents)
    responses = [p["functionResponse"] for p in last["parts"] if "functionResponse" in p]
    declarations = [d for t in body.get("tools") or [] for d in t.get("functionDeclarations", [])]
    calling = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
    mode = calling.get("mode", "AUTO")
    if declarations and not responses and mode != "NONE" and (mode == "ANY" or "call" in text):
        name = (calling.get("allowedFunctionNames") or [declarations[0]["name"]])[0]
        args = {"query": text, "unit": "celsius", "limit": 3}
        return [{"functionCall": {"name": name, "args": args}}], "STOP", prompt
    if "unsafe" in text:
        return [], "SAFETY", prompt
    words = (
        f"Result: {json.dumps(responses[0]['response'])}" if responses else f"Echo: {text}"
    ).split()
    config = body.get("generationConfig") or {}
    reason = "STOP"
    limit = config.get("maxOutputTokens")
    if limit is not None and len(words) > limit:
        words, reason = words[:limit], "MAX_TOKENS"
    answer = " ".join(words)
    for stop in config.get("stopSequences") or []:
        if stop in answer:
            answer = answer[: answer.index(stop)]
    return [{"text": answer}], reason, prompt


def _usage(prompt: int, parts: list[dict[str, Any]], n: int) -> dict[str, int]:
    out = sum(len(p["text"].split()) if "text" in p else 8 for p in parts) * n
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": out,
        "totalTokenCount": prompt + out,
    }


async def generate(request: Request) -> Response:
    model, _, method = request.path_params["target"].partition(":")
    key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if not key:
        msg = (
            "Method doesn't allow unregistered callers (callers without established identity)."
            " Please use API Key or other form of API consumer identity to call this API."
        )
        return _error(Invalid(msg, 403))
    if key not in request.app.state.keys:
        info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
        return _error(Invalid("API key not valid. Please pass a valid API key.", 400, [info]))
    if method not in ("generateContent", "streamGenerateContent"):
        return _error(Invalid(f"Method not found: {method}", 404))
    try:
        body = json.loads(await request.body())
        _validate(body)
    except ValueError:
        return _error(Invalid("Invalid JSON payload received."))
    except Invalid as exc:
        return _error(exc)
    request.app.state.requests.append({"key": key, "body": body, "model": model})
    match = _FAULT.search(_text(body["contents"][-1]))
    fault = request.headers.get("x-fake-fault") or (match.group(1) if match else None)
    stream = method == "streamGenerateContent"
    if fault == "429":
        retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "4s"}
        return _error(Invalid("Resource has been exhausted (e.g. check quota).", 429, [retry]))
    if fault == "500":
        return _error(Invalid("An internal error has occurred.", 500))
    if fault == "503":
        return _error(Invalid("The model is overloaded. Please try again later.", 503))
    if fault == "garbage" and not stream:
        return Response("<!DOCTYPE html><title>Error 502</title>", media_type="application/json")
    if fault == "reset" and not stream:
        return StreamingResponse(_reset_body(), media_type="application/json")
    n = int((body.get("generationConfig") or {}).get("candidateCount") or 1)
    parts, reason, prompt = _candidate_parts(body)
    usage = _usage(prompt, parts, n)
    if "blockprompt" in _text(body["contents"][-1]):
        blocked = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": usage}
        return JSONResponse(blocked) if not stream else _sse_response([blocked], request)
    if not stream:
        return JSONResponse(
            {
                "candidates": [_candidate(parts, reason, i) for i in range(n)],
                "usageMetadata": usage,
                "modelVersion": model,
                "responseId": "fake-response-1",
            }
        )
    return _sse_response(_events(parts, reason, n, usage, model, fault), request)


def _candidate(parts: list[dict[str, Any]], reason: str | None, index: int) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": index}
    if reason:
        candidate["finishReason"] = reason
    if reason == "SAFETY":
        candidate["safetyRatings"] = [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
        ]
    return candidate


def _events(
    parts: list[dict[str, Any]],
    reason: str,
    n: int,
    usage: dict[str, int],
    model: str,
    fault: str | None,
) -> list[Any]:
    """Each event: one piece per candidate; the last carries finishReason and full usage."""
    meta = {"modelVersion": model, "responseId": "fake-response-1"}
    pieces: list[list[dict[str, Any]]] = []
    for part in parts:
        if "text" in part:
            words = part["text"].split(" ")
            pieces += [
                [{"text": " ".join(words[i : i + 2]) + " "}] for i in range(0, len(words), 2)
            ]
            pieces[-1][0]["text"] = pieces[-1][0]["text"][:-1]
        else:
            pieces.append([part])
    events: list[Any] = []
    partial = {"promptTokenCount": usage["promptTokenCount"]}
    for i, piece in enumerate(pieces or [[]]):
        final = i == len(pieces or [[]]) - 1
        candidates = [_candidate(piece, reason if final else None, c) for c in range(n)]
        events.append(
            {"candidates": candidates, "usageMetadata": usage if final else partial, **meta}
        )
        if fault == "garbage":
            events.append("{ nope")
        if fault in ("truncate", "reset") and not final:
            events.append(fault)
            break
    return events


def _sse_response(events: list[Any], request: Request) -> Response:
    if request.query_params.get("alt") != "sse":  # without alt=sse: one JSON array
        return JSONResponse([e for e in events if isinstance(e, dict)])

    async def body() -> AsyncIterator[str]:
        for event in events:
            if event == "reset":
                raise ConnectionReset
            if event == "truncate":
                return
            yield f"data: {event if isinstance(event, str) else json.dumps(event)}\r\n\r\n"

    return StreamingResponse(body(), media_type="text/event-stream")


async def _reset_body() -> AsyncIterator[bytes]:
    yield b'{"candidates": [{"content": '
    raise ConnectionReset


def create_app(keys: frozenset[str] = DEFAULT_KEYS) -> Starlette:
    app = Starlette(routes=[Route("/v1beta/models/{target:path}", generate, methods=["POST"])])
    app.state.keys = keys
    app.state.requests = []
    return app
