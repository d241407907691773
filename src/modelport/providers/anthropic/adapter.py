"""The Anthropic Messages API (`POST /v1/messages`) behind `HTTPAdapter`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import ChatCompletion, ChatCompletionChunk, FinishReason, Usage
from ...protocol.messages_chat import MessagesChat
from ...settings import ChannelConfig
from ..chunks import ChunkBuilder
from ..driver import Call, HTTPAdapter, base_url_of
from ..errors import UpstreamError, malformed, upstream_error
from ..http_client import parse_json
from ..sse import ServerSentEvent
from ..stream import StreamEnd, StreamItem
from .convert import (
    STATUS_OF_ERROR_TYPE,
    VENDOR,
    cached_from_claude,
    claude_to_openai,
    error_from_claude,
    finish_from_claude,
    request_to_claude,
    upstream_model,
    usage_from_claude,
)
from .options import AnthropicOptions

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"


def _stream_error(error: Any) -> UpstreamError:
    kind = str(error.get("type") or "api_error") if isinstance(error, dict) else "api_error"
    message = str(error.get("message") or kind) if isinstance(error, dict) else str(error)
    status = STATUS_OF_ERROR_TYPE.get(kind, 500)
    return upstream_error(status, message, code="upstream_overloaded" if status == 529 else None)


class ClaudeStreamReader:
    """One Messages stream: its events as chunks, the usage in the `StreamEnd`."""

    def __init__(self, request: ChatCompletionRequest, model: str) -> None:
        self.done = False  # message_stop came
        self._request = request
        self._out = ChunkBuilder(request, model=model)
        self._prompt_tokens = 0
        self._completion_tokens = 0
        self._cached_tokens: int | None = None
        self._stop_reason: str | None = None
        self._calls: dict[int, int] = {}  # content block index → tool call index
        self._calls_with_arguments: set[int] = set()

    def read(self, event: ServerSentEvent) -> list[StreamItem]:
        data = parse_json(event.data, VENDOR)
        if not isinstance(data, dict):
            raise malformed(VENDOR, "a stream event is not a JSON object")
        return list(self._chunks(data))

    def close(self) -> list[StreamItem]:
        if not self.done:
            raise malformed(VENDOR, "the stream ended before message_stop")
        usage = Usage.of(self._prompt_tokens, self._completion_tokens, cached=self._cached_tokens)
        return [StreamEnd(usage)]

    def _chunks(self, event: dict[str, Any]) -> list[ChatCompletionChunk]:
        kind = event["type"]
        out = self._out
        if kind == "message_start":
            message = event["message"]
            out.id = message.get("id") or out.id
            self._prompt_tokens, self._completion_tokens = usage_from_claude(
                message.get("usage", {})
            )
            self._cached_tokens = cached_from_claude(message.get("usage", {}))
            return [out.role()]
        if kind == "content_block_start":
            block = event["content_block"]
            if block["type"] == "text" and block.get("text"):
                return [out.text(block["text"])]
            if block["type"] == "thinking" and block.get("thinking"):
                return [out.reasoning(block["thinking"])]
            if block["type"] == "tool_use":
                if self._request.uses_legacy_functions() and self._calls:
                    return []  # a legacy function_call holds one call only
                position = self._calls[event["index"]] = len(self._calls)
                return [out.tool_start(position, block["id"], block["name"])]
            return []
        if kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                return [out.text(delta["text"])]
            if delta["type"] == "thinking_delta":
                return [out.reasoning(delta["thinking"])] if delta["thinking"] else []
            call_index = self._calls.get(event["index"])
            if delta["type"] == "input_json_delta" and call_index is not None:
                if not delta["partial_json"]:
                    return []
                self._calls_with_arguments.add(call_index)
                return [out.tool_arguments(call_index, delta["partial_json"])]
            return []  # signature deltas have no OpenAI counterpart
        if kind == "content_block_stop":
            call_index = self._calls.get(event["index"])
            if call_index is not None and call_index not in self._calls_with_arguments:
                return [out.tool_arguments(call_index, "{}")]  # a tool without input has JSON too
            return []
        if kind == "message_delta":
            self._stop_reason = event["delta"].get("stop_reason") or self._stop_reason
            usage = event.get("usage") or {}
            if usage.get("input_tokens") is not None:
                self._prompt_tokens, _ = usage_from_claude(usage)
            if usage.get("cache_read_input_tokens") is not None:
                self._cached_tokens = cached_from_claude(usage)
            self._completion_tokens = int(usage.get("output_tokens") or self._completion_tokens)
            return []
        if kind == "message_stop":
            self.done = True
            finish: FinishReason = finish_from_claude(self._stop_reason, self._request)
            return [out.finish(finish)]
        if kind == "error":
            raise _stream_error(event.get("error"))
        return []  # ping, and event types added after this adapter was written


class AnthropicProvider(HTTPAdapter):
    vendor = VENDOR
    Options = AnthropicOptions

    async def call(
        self, request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
    ) -> Call:
        key = self._keys.next(channel) or ""
        headers = {"x-api-key": key, "anthropic-version": API_VERSION}
        url = base_url_of(channel, DEFAULT_BASE_URL) + "/v1/messages"
        if isinstance(request, MessagesChat):  # a /v1/messages request: relayed as sent
            from .relay import relay_body, relay_headers

            headers.update(relay_headers(request, API_VERSION))
            return Call(url, headers, relay_body(request, channel, stream=stream))
        return Call(url, headers, request_to_claude(request, channel, stream=stream))

    def error_from(self, status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return error_from_claude(status, raw, headers)

    def completion_from(
        self, data: dict[str, Any], request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        if isinstance(request, MessagesChat):  # the vendor's answer kept beside ours
            from .relay import relayed_completion

            return relayed_completion(data, request)
        return claude_to_openai(data, request)

    def reader(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ClaudeStreamReader:
        if isinstance(request, MessagesChat):  # each vendor event kept beside our chunks
            from .relay import RelayStreamReader

            return RelayStreamReader(request, upstream_model(request, channel))
        return ClaudeStreamReader(request, upstream_model(request, channel))
