"""Google's Gemini API (`generateContent` / `streamGenerateContent`) behind `HTTPAdapter`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import ChatCompletion, Usage
from ...settings import ChannelConfig
from ..chunks import ChunkBuilder
from ..driver import Call, HTTPAdapter, base_url_of
from ..errors import UpstreamError, malformed
from ..http_client import parse_json
from ..sse import ServerSentEvent
from ..stream import StreamEnd, StreamItem
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


def model_of(request: ChatCompletionRequest, channel: ChannelConfig) -> str:
    return (channel.upstream_model or request.model).removeprefix("models/")


class GeminiReader:
    """One stream's events. Gemini streams whole parts: text pieces, and function calls
    complete with arguments. It sends no end event: only a finishReason on every candidate
    says the answer is complete, and the usage rides along on the events."""

    def __init__(self, request: ChatCompletionRequest, model: str) -> None:
        self.done = False  # never set: the stream ends when the upstream closes it
        self._request = request
        self._out = ChunkBuilder(request, model=model)
        self._started: set[int] = set()  # candidates that got their role chunk
        self._calls: dict[int, int] = {}  # candidate → tool calls so far
        self._finished: set[int] = set()
        self._usage: Usage | None = None

    def read(self, event: ServerSentEvent) -> list[StreamItem]:
        data = parse_json(event.data, VENDOR)
        if not isinstance(data, dict):
            raise malformed(VENDOR, "a stream event is not a JSON object")
        error = data.get("error")
        if isinstance(error, dict):
            raise error_from_gemini(int(error.get("code") or 500), event.data.encode(), {})
        return self._chunks(data)

    def _chunks(self, data: dict[str, Any]) -> list[StreamItem]:
        out, request = self._out, self._request
        chunks: list[StreamItem] = []
        if data.get("usageMetadata"):
            self._usage = usage_from_gemini(data["usageMetadata"])
        candidates = data.get("candidates") or []
        if not candidates and (data.get("promptFeedback") or {}).get("blockReason"):
            self._finished.add(0)
            return [out.role(), out.finish("content_filter")]
        for candidate in candidates:
            index = int(candidate.get("index") or 0)
            if index not in self._started:
                self._started.add(index)
                chunks.append(out.role(index))
            text, thought, calls = parts_of(candidate, request)
            if thought:
                chunks.append(out.reasoning(thought, index))
            if text:
                chunks.append(out.text(text, index))
            for call in calls:
                position = self._calls.get(index, 0)
                if request.uses_legacy_functions() and position:
                    continue  # a legacy function_call holds one call only
                self._calls[index] = position + 1
                chunks.append(out.tool_start(position, call.id, call.name, call.arguments, index))
            reason = candidate.get("finishReason")
            if reason:
                self._finished.add(index)
                called = bool(self._calls.get(index))
                chunks.append(out.finish(finish_from_gemini(reason, called, request), index))
        return chunks

    def close(self) -> list[StreamItem]:
        if not self._finished or not self._started <= self._finished:
            raise malformed(VENDOR, "the stream ended before every candidate finished")
        return [StreamEnd(self._usage)] if self._usage is not None else []


class GeminiProvider(HTTPAdapter):
    vendor = VENDOR

    async def call(
        self, request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
    ) -> Call:
        body = request_to_gemini(request, channel)
        model = quote(model_of(request, channel))
        url = f"{base_url_of(channel, DEFAULT_BASE_URL)}/v1beta/models/{model}"
        headers = {"x-goog-api-key": self._keys.next(channel) or ""}
        if stream:
            return Call(url + ":streamGenerateContent", headers, body, params={"alt": "sse"})
        return Call(url + ":generateContent", headers, body)

    def error_from(self, status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return error_from_gemini(status, raw, headers)

    def completion_from(
        self, data: dict[str, Any], request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        return gemini_to_openai(data, request, model_of(request, channel))

    def reader(self, request: ChatCompletionRequest, channel: ChannelConfig) -> GeminiReader:
        return GeminiReader(request, model_of(request, channel))
