"""The Anthropic Messages API (`POST /v1/messages`) behind the `Provider` protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import ChatCompletion, ChatCompletionChunk, FinishReason, Usage
from ...settings import ChannelConfig
from ..base import ProviderDeps
from ..chunks import ChunkBuilder
from ..errors import UpstreamError
from ..http import (
    KeyRing,
    base_url_of,
    convert,
    drain,
    guard_stream,
    malformed,
    open_sse,
    parse_json,
    post_json,
    upstream_error,
)
from .convert import (
    STATUS_OF_ERROR_TYPE,
    claude_to_openai,
    error_from_claude,
    finish_from_claude,
    request_to_claude,
    usage_from_claude,
)

VENDOR = "Anthropic"
DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"


@dataclass
class _StreamState:
    """What a Messages stream has told us so far."""

    builder: ChunkBuilder
    prompt_tokens: int = 0
    completion_tokens: int = 0
    stop_reason: str | None = None
    calls: dict[int, int] = field(default_factory=dict)  # content block index → tool call index
    calls_with_arguments: set[int] = field(default_factory=set)
    stopped: bool = False


def _stream_error(error: Any) -> UpstreamError:
    kind = str(error.get("type") or "api_error") if isinstance(error, dict) else "api_error"
    message = str(error.get("message") or kind) if isinstance(error, dict) else str(error)
    status = STATUS_OF_ERROR_TYPE.get(kind, 500)
    return upstream_error(status, message, code="upstream_overloaded" if status == 529 else None)


def claude_event_to_chunks(
    event: dict[str, Any], state: _StreamState, request: ChatCompletionRequest
) -> list[ChatCompletionChunk]:
    kind = event["type"]
    out = state.builder
    if kind == "message_start":
        message = event["message"]
        state.builder.id = message.get("id") or out.id
        state.prompt_tokens, state.completion_tokens = usage_from_claude(message.get("usage", {}))
        return [out.role()]
    if kind == "content_block_start":
        block = event["content_block"]
        if block["type"] == "text" and block.get("text"):
            return [out.text(block["text"])]
        if block["type"] == "tool_use":
            if request.uses_legacy_functions() and state.calls:
                return []  # a legacy function_call holds one call only
            position = state.calls[event["index"]] = len(state.calls)
            return [out.tool_start(position, block["id"], block["name"])]
        return []
    if kind == "content_block_delta":
        delta = event["delta"]
        if delta["type"] == "text_delta":
            return [out.text(delta["text"])]
        call_index = state.calls.get(event["index"])
        if delta["type"] == "input_json_delta" and call_index is not None:
            if not delta["partial_json"]:
                return []
            state.calls_with_arguments.add(call_index)
            return [out.tool_arguments(call_index, delta["partial_json"])]
        return []  # thinking and signature deltas have no OpenAI counterpart
    if kind == "content_block_stop":
        call_index = state.calls.get(event["index"])
        if call_index is not None and call_index not in state.calls_with_arguments:
            return [out.tool_arguments(call_index, "{}")]  # a tool without input still has JSON
        return []
    if kind == "message_delta":
        state.stop_reason = event["delta"].get("stop_reason") or state.stop_reason
        usage = event.get("usage") or {}
        if usage.get("input_tokens") is not None:
            state.prompt_tokens, _ = usage_from_claude(usage)
        state.completion_tokens = int(usage.get("output_tokens") or state.completion_tokens)
        return []
    if kind == "message_stop":
        state.stopped = True
        finish: FinishReason = finish_from_claude(state.stop_reason, request)
        usage_chunk = out.usage(Usage.of(state.prompt_tokens, state.completion_tokens))
        return [out.finish(finish), usage_chunk]
    if kind == "error":
        raise _stream_error(event.get("error"))
    return []  # ping, and event types added after this adapter was written


class AnthropicProvider:
    def __init__(self, deps: ProviderDeps) -> None:
        self._http = deps.http
        self._keys = KeyRing()

    def _headers(self, channel: ChannelConfig) -> dict[str, str]:
        key = self._keys.next(channel) or ""
        return {"x-api-key": key, "anthropic-version": API_VERSION}

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        data = await post_json(
            self._http,
            base_url_of(channel, DEFAULT_BASE_URL) + "/v1/messages",
            body=request_to_claude(request, channel, stream=False),
            headers=self._headers(channel),
            channel=channel,
            on_error=error_from_claude,
            vendor=VENDOR,
        )
        if not isinstance(data, dict):
            raise malformed(VENDOR, "the body is not a JSON object")
        return convert(lambda d: claude_to_openai(d, request), data, VENDOR)

    def stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        return guard_stream(self._stream(request, channel), VENDOR)

    async def _stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        body = request_to_claude(request, channel, stream=True)
        state = _StreamState(ChunkBuilder(request, model=body["model"]))
        async with open_sse(
            self._http,
            base_url_of(channel, DEFAULT_BASE_URL) + "/v1/messages",
            body=body,
            headers=self._headers(channel),
            channel=channel,
            on_error=error_from_claude,
            vendor=VENDOR,
        ) as events:
            async for sse in events:
                event = parse_json(sse.data, VENDOR)
                if not isinstance(event, dict):
                    raise malformed(VENDOR, "a stream event is not a JSON object")
                chunks = convert(lambda e: claude_event_to_chunks(e, state, request), event, VENDOR)
                for chunk in chunks:
                    yield chunk
                if state.stopped:
                    await drain(events)  # keeps the connection alive for the next request
                    return
        raise malformed(VENDOR, "the stream ended before message_stop")

    async def aclose(self) -> None:
        """The HTTP client is shared and closed by its owner."""
