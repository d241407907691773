"""Google's Gemini API (`generateContent` / `streamGenerateContent`) behind `Provider`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import ChatCompletion, ChatCompletionChunk, Usage
from ...settings import ChannelConfig
from ..base import ProviderDeps
from ..chunks import ChunkBuilder
from ..http import (
    KeyRing,
    base_url_of,
    convert,
    guard_stream,
    malformed,
    open_sse,
    parse_json,
    post_json,
)
from .convert import (
    error_from_gemini,
    finish_from_gemini,
    gemini_to_openai,
    parts_of,
    request_to_gemini,
    usage_from_gemini,
)

VENDOR = "Gemini"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"


@dataclass
class _StreamState:
    builder: ChunkBuilder
    started: set[int] = field(default_factory=set)  # candidates that got their role chunk
    calls: dict[int, int] = field(default_factory=dict)  # candidate → tool calls so far
    finished: set[int] = field(default_factory=set)
    usage: Usage | None = None


def gemini_event_to_chunks(
    data: dict[str, Any], state: _StreamState, request: ChatCompletionRequest
) -> list[ChatCompletionChunk]:
    """Gemini streams whole parts: text pieces, and function calls complete with arguments."""
    out = state.builder
    chunks: list[ChatCompletionChunk] = []
    if data.get("usageMetadata"):
        state.usage = usage_from_gemini(data["usageMetadata"])
    candidates = data.get("candidates") or []
    if not candidates and (data.get("promptFeedback") or {}).get("blockReason"):
        state.finished.add(0)
        return [out.role(), out.finish("content_filter")]
    for candidate in candidates:
        index = int(candidate.get("index") or 0)
        if index not in state.started:
            state.started.add(index)
            chunks.append(out.role(index))
        text, calls = parts_of(candidate)
        if text:
            chunks.append(out.text(text, index))
        for call in calls:
            position = state.calls.get(index, 0)
            if request.uses_legacy_functions() and position:
                continue  # a legacy function_call holds one call only
            state.calls[index] = position + 1
            chunks.append(out.tool_start(position, call.id, call.name, call.arguments, index))
        reason = candidate.get("finishReason")
        if reason:
            state.finished.add(index)
            called = bool(state.calls.get(index))
            chunks.append(out.finish(finish_from_gemini(reason, called, request), index))
    return chunks


class GeminiProvider:
    def __init__(self, deps: ProviderDeps) -> None:
        self._http = deps.http
        self._keys = KeyRing()

    def _target(self, request: ChatCompletionRequest, channel: ChannelConfig) -> tuple[str, str]:
        model = (channel.upstream_model or request.model).removeprefix("models/")
        return model, f"{base_url_of(channel, DEFAULT_BASE_URL)}/v1beta/models/{quote(model)}"

    def _headers(self, channel: ChannelConfig) -> dict[str, str]:
        return {"x-goog-api-key": self._keys.next(channel) or ""}

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        body = request_to_gemini(request, channel)
        model, url = self._target(request, channel)
        data = await post_json(
            self._http,
            url + ":generateContent",
            body=body,
            headers=self._headers(channel),
            channel=channel,
            on_error=error_from_gemini,
            vendor=VENDOR,
        )
        if not isinstance(data, dict):
            raise malformed(VENDOR, "the body is not a JSON object")
        return convert(lambda d: gemini_to_openai(d, request, model), data, VENDOR)

    def stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        return guard_stream(self._stream(request, channel), VENDOR)

    async def _stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        body = request_to_gemini(request, channel)
        model, url = self._target(request, channel)
        state = _StreamState(ChunkBuilder(request, model=model))
        async with open_sse(
            self._http,
            url + ":streamGenerateContent?alt=sse",
            body=body,
            headers=self._headers(channel),
            channel=channel,
            on_error=error_from_gemini,
            vendor=VENDOR,
        ) as events:
            async for sse in events:
                data = parse_json(sse.data, VENDOR)
                if not isinstance(data, dict):
                    raise malformed(VENDOR, "a stream event is not a JSON object")
                if isinstance(data.get("error"), dict):
                    raw = sse.data.encode()
                    raise error_from_gemini(int(data["error"].get("code") or 500), raw, {})
                chunks = convert(lambda d: gemini_event_to_chunks(d, state, request), data, VENDOR)
                for chunk in chunks:
                    yield chunk
        # Gemini has no end-of-stream event: only a finishReason on every candidate says "done"
        if not state.finished or not state.started <= state.finished:
            raise malformed(VENDOR, "the stream ended before every candidate finished")
        if state.usage is not None:
            yield state.builder.usage(state.usage)

    async def aclose(self) -> None:
        """The HTTP client is shared and closed by its owner."""
