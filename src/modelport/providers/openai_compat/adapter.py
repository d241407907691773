"""OpenAI-compatible upstreams behind `HTTPAdapter`: the request goes through as the client
sent it (unknown fields, `extra_body`, tools, `response_format` included); only `model` is
replaced and stream usage is always requested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import ChatCompletion
from ...protocol.completions import PromptedChat
from ...settings import ChannelConfig
from ..driver import Call, HTTPAdapter, base_url_of
from ..errors import UpstreamError, malformed, upstream_error
from ..sse import ServerSentEvent
from ..stream import StreamEnd, StreamItem
from .legacy import UpstreamText, completion_to_upstream
from .wire import UpstreamChunk, UpstreamCompletion

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
    try:
        data = UpstreamChunk.model_validate_json(raw).error
    except ValueError:
        data = None
    if isinstance(data, dict):
        code, param = data.get("code"), data.get("param")
        return upstream_error(
            status,
            str(data.get("message") or f"upstream answered {status}"),
            code=str(code) if code is not None else None,
            param=str(param) if param is not None else None,
            headers=headers,
        )
    if isinstance(data, str):  # Ollama, llama.cpp and friends: {"error": "text"}
        return upstream_error(status, data, headers=headers)
    text = raw.decode("utf-8", "replace").strip()[:300] or f"upstream answered {status}"
    return upstream_error(status, text, headers=headers)


def stream_error(error: Any) -> UpstreamError:
    """An error sent inside a 200 answer (as a stream event, or instead of the completion)."""
    if isinstance(error, dict):
        code = error.get("code")
        message = str(error.get("message") or error)
        return upstream_error(502, message, code=str(code) if code is not None else None)
    return upstream_error(502, str(error))


class ChunkReader:
    """One stream's events: chunks as they come, the usage at the end, `[DONE]` to stop."""

    def __init__(self, choices_wanted: int) -> None:
        self.done = False
        self._wanted = choices_wanted
        self._finished: set[int] = set()
        self._usage: StreamEnd | None = None

    def read(self, event: ServerSentEvent) -> list[StreamItem]:
        data = event.data
        if data[:1] != "{" and data.strip() == "[DONE]":
            self.done = True
            return []
        parsed = self._parse(data)
        if parsed.error is not None:
            raise stream_error(parsed.error)
        usage = parsed.reported_usage()
        if usage is not None:
            self._usage = StreamEnd(usage)
        if not parsed.choices:
            return []
        for choice in parsed.choices:
            if choice.finish_reason:
                self._finished.add(choice.index)
        return [parsed.to_chunk()]

    def _parse(self, data: str) -> UpstreamChunk:
        return UpstreamChunk.model_validate_json(data)

    def close(self) -> list[StreamItem]:
        if not self.done and len(self._finished) < self._wanted:
            raise malformed(VENDOR, "the stream ended before the completion finished")
        return [self._usage] if self._usage is not None else []


class TextChunkReader(ChunkReader):
    """A legacy completion's stream: `text_completion` events read as chat chunks."""

    def _parse(self, data: str) -> UpstreamChunk:
        return UpstreamText.model_validate_json(data).to_chunk()


class OpenAICompatProvider(HTTPAdapter):
    vendor = VENDOR

    async def call(
        self, request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
    ) -> Call:
        key = self._keys.next(channel, required=False)  # Ollama and llama.cpp need none
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        base = base_url_of(channel, DEFAULT_BASE_URL)
        if isinstance(request, PromptedChat):  # a legacy completion: relayed as one
            body = completion_to_upstream(request.completion, channel, stream=stream)
            return Call(base + "/completions", headers, body)
        return Call(
            base + "/chat/completions",
            headers,
            request_to_upstream(request, channel, stream=stream),
        )

    def error_from(self, status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return error_from_upstream(status, raw, headers)

    def completion_from(
        self, data: dict[str, Any], request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        if "error" in data and "choices" not in data:
            raise stream_error(data["error"])
        if isinstance(request, PromptedChat):
            return UpstreamText.model_validate(data).to_completion()
        return UpstreamCompletion.model_validate(data).to_completion()

    def reader(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ChunkReader:
        if isinstance(request, PromptedChat):
            return TextChunkReader(request.n)
        return ChunkReader(request.n)
