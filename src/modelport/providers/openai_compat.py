"""OpenAI-compatible upstreams: OpenAI, DeepSeek, Baichuan, Moonshot, vLLM, Ollama, llama.cpp...

The request goes through as the client sent it (unknown fields, `extra_body`, tools,
`response_format` included); only `model` is replaced and stream usage is always requested.
Responses are projected onto our strict wire types, so vendor additions never break parsing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    FunctionCallOut,
    ToolCallOut,
    Usage,
)
from ..settings import ChannelConfig
from .base import ProviderDeps
from .errors import UpstreamError
from .http import (
    KeyRing,
    base_url_of,
    convert,
    drain,
    guard_stream,
    json_error_body,
    malformed,
    open_byte_stream,
    open_sse,
    parse_json,
    post_json,
    upstream_error,
)
from .openai_relay import RelayChunk, RelayCompletion, relay_completion, relay_stream

VENDOR = "openai-compatible upstream"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Ours, not the upstream's: the chat service has already acted on them.
_PLATFORM_FIELDS = ("knowledge_base", "with_search_enhance")
_PLATFORM_TOOLS = ("retrieval", "web_search")


def request_to_upstream(
    request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = request.model_dump(mode="json", exclude_unset=True, by_alias=True)
    for name in _PLATFORM_FIELDS:
        body.pop(name, None)
    if body.get("tools"):
        tools = [t for t in body["tools"] if t.get("type") not in _PLATFORM_TOOLS]
        if tools:
            body["tools"] = tools
        else:
            del body["tools"]
            body.pop("tool_choice", None)
            body.pop("parallel_tool_calls", None)
    body["model"] = channel.upstream_model or request.model
    body["stream"] = stream
    if stream:
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = True
        body["stream_options"] = options
    else:
        body.pop("stream_options", None)
    return body


def error_from_upstream(status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
    data = json_error_body(raw)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or f"upstream answered {status}")
        code = error.get("code")
        param = error.get("param")
        return upstream_error(
            status,
            message,
            code=str(code) if code is not None else None,
            param=str(param) if param is not None else None,
            headers=headers,
        )
    if isinstance(error, str):  # Ollama, llama.cpp and friends: {"error": "text"}
        return upstream_error(status, error, headers=headers)
    text = raw.decode("utf-8", "replace").strip()[:300] or f"upstream answered {status}"
    return upstream_error(status, text, headers=headers)


def _usage(data: Any) -> Usage | None:
    if not isinstance(data, dict):
        return None
    prompt = int(data.get("prompt_tokens") or 0)
    completion = int(data.get("completion_tokens") or 0)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=int(data.get("total_tokens") or prompt + completion),
    )


def _function(data: dict[str, Any]) -> FunctionCallOut:
    return FunctionCallOut(name=data["name"], arguments=data.get("arguments") or "")


def completion_from_upstream(data: dict[str, Any]) -> ChatCompletion:
    if "error" in data and "choices" not in data:
        raise _stream_error(data["error"])
    choices = []
    for raw in data["choices"]:
        message = raw.get("message") or {}
        calls = message.get("tool_calls")
        call = message.get("function_call")
        choices.append(
            Choice(
                index=raw.get("index", 0),
                message=AssistantMessage(
                    content=message.get("content"),
                    tool_calls=[
                        ToolCallOut(id=c["id"], function=_function(c["function"])) for c in calls
                    ]
                    if calls
                    else None,
                    function_call=_function(call) if call else None,
                ),
                finish_reason=raw.get("finish_reason"),
                logprobs=raw.get("logprobs"),
            )
        )
    return ChatCompletion(
        id=data.get("id") or "chatcmpl-upstream",
        created=int(data.get("created") or 0),
        model=data.get("model") or "",
        choices=choices,
        usage=_usage(data.get("usage")) or Usage(),
        system_fingerprint=data.get("system_fingerprint"),
    )


def _delta(raw: dict[str, Any]) -> dict[str, Any]:
    """A `Delta`'s fields (validated with the chunk, in one go: several times cheaper)."""
    calls = raw.get("tool_calls")
    call = raw.get("function_call")
    return {
        "role": "assistant" if raw.get("role") == "assistant" else None,
        "content": raw.get("content"),
        "tool_calls": [
            {
                "index": c.get("index", i),
                "id": c.get("id"),
                "type": "function" if c.get("type") == "function" else None,
                "function": _pick(c.get("function"), ("name", "arguments")),
            }
            for i, c in enumerate(calls)
        ]
        if calls
        else None,
        "function_call": _pick(call, ("name", "arguments")) if call else None,
    }


def _pick(data: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in keys if isinstance(data, dict) and data.get(k) is not None}


def chunk_from_upstream(data: dict[str, Any]) -> tuple[ChatCompletionChunk, Usage | None]:
    """The chunk without usage, and the usage it reported (top level or inside a choice)."""
    usage = _usage(data.get("usage"))
    choices = []
    for raw in data.get("choices") or []:
        usage = _usage(raw.get("usage")) or usage  # Moonshot reports usage inside the choice
        choices.append(
            {
                "index": raw.get("index", 0),
                "delta": _delta(raw.get("delta") or {}),
                "finish_reason": raw.get("finish_reason"),
                "logprobs": raw.get("logprobs"),
            }
        )
    chunk = ChatCompletionChunk.model_validate(
        {
            "id": data.get("id") or "chatcmpl-upstream",
            "created": int(data.get("created") or 0),
            "model": data.get("model") or "",
            "choices": choices,
        }
    )
    return chunk, usage


def _stream_error(error: Any) -> UpstreamError:
    if isinstance(error, dict):
        return upstream_error(
            502, str(error.get("message") or error), code=error.get("code"), retryable=True
        )
    return upstream_error(502, str(error), retryable=True)


class OpenAICompatProvider:
    def __init__(self, deps: ProviderDeps) -> None:
        self._http = deps.http
        self._keys = KeyRing()

    def _headers(self, channel: ChannelConfig) -> dict[str, str]:
        key = self._keys.next(channel, required=False)  # Ollama and llama.cpp need none
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _call(
        self, request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
    ) -> dict[str, Any]:
        """The arguments of `post_json`/`open_sse`/`open_byte_stream` for one request."""
        return {
            "http": self._http,
            "url": base_url_of(channel, DEFAULT_BASE_URL) + "/chat/completions",
            "body": request_to_upstream(request, channel, stream=stream),
            "headers": self._headers(channel),
            "channel": channel,
            "on_error": error_from_upstream,
            "vendor": VENDOR,
        }

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        data = await post_json(**self._call(request, channel, stream=False))
        if not isinstance(data, dict):
            raise malformed(VENDOR, "the body is not a JSON object")
        return convert(completion_from_upstream, data, VENDOR)

    async def complete_relay(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> RelayCompletion:
        """`complete`, answered with the upstream's own object (see `openai_relay`)."""
        data = await post_json(**self._call(request, channel, stream=False))
        return relay_completion(data, VENDOR, _usage, _stream_error)

    def relay(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[list[RelayChunk]]:
        """`stream`, as the upstream's own chunk objects, a batch per read (`openai_relay`)."""
        opened = open_byte_stream(**self._call(request, channel, stream=True))
        chunks = relay_stream(
            opened,
            choices_wanted=request.n,
            vendor=VENDOR,
            read_usage=_usage,
            stream_error=_stream_error,
        )
        return guard_stream(chunks, VENDOR)

    def stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        return guard_stream(self._stream(request, channel), VENDOR)

    async def _stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        usage: Usage | None = None
        last: ChatCompletionChunk | None = None
        finished: set[int] = set()
        done = False
        async with open_sse(**self._call(request, channel, stream=True)) as events:
            async for event in events:
                if event.data.strip() == "[DONE]":
                    done = True
                    await drain(events)  # keeps the connection alive for the next request
                    break
                data = parse_json(event.data, VENDOR)
                if not isinstance(data, dict):
                    raise malformed(VENDOR, "a stream event is not a JSON object")
                if "error" in data:
                    raise _stream_error(data["error"])
                chunk, reported = convert(chunk_from_upstream, data, VENDOR)
                usage = reported or usage
                finished.update(c.index for c in chunk.choices if c.finish_reason)
                last = chunk
                if chunk.choices:
                    yield chunk
        if not done and len(finished) < request.n:
            raise malformed(VENDOR, "the stream ended before the completion finished")
        if usage is not None and last is not None:
            yield last.model_copy(update={"choices": [], "usage": usage})

    async def aclose(self) -> None:
        """The HTTP client is shared and closed by its owner."""
