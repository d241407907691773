"""iFlytek Spark over WebSocket: a signed URL per request, one JSON frame out, frames back."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    FunctionCallOut,
    ToolCallOut,
    Usage,
)
from ...settings import ChannelConfig
from ..base import ProviderDeps
from ..errors import UpstreamError
from ..http import base_url_of, guard_stream, malformed
from .auth import signed_url
from .codes import handshake_error, spark_error
from .convert import SparkTarget, openai_to_spark, spark_frames_to_chunks
from .wire import SparkFrame

DEFAULT_BASE_URL = "wss://spark-api.xf-yun.com"
# API version → (path, parameter.chat.domain), from iFlytek's Spark Web API document.
VERSIONS: dict[str, tuple[str, str]] = {
    "v1.1": ("/v1.1/chat", "lite"),
    "v2.1": ("/v2.1/chat", "generalv2"),
    "v3.1": ("/v3.1/chat", "generalv3"),
    "v3.5": ("/v3.5/chat", "generalv3.5"),
    "v4.0": ("/v4.0/chat", "4.0Ultra"),
    "pro-128k": ("/chat/pro-128k", "pro-128k"),
    "max-32k": ("/chat/max-32k", "max-32k"),
}
# Product names people put in `upstream_model` → the API version serving them.
ALIASES = {
    "spark-lite": "v1.1",
    "lite": "v1.1",
    "spark-pro": "v3.1",
    "generalv3": "v3.1",
    "spark-max": "v3.5",
    "generalv3.5": "v3.5",
    "spark-4.0-ultra": "v4.0",
    "4.0ultra": "v4.0",
    "spark-pro-128k": "pro-128k",
    "spark-max-32k": "max-32k",
}
MAX_TOKENS_CAP = 8192
MAX_FRAME_BYTES = 4 * 1024 * 1024


class SparkProvider:
    def __init__(self, deps: ProviderDeps) -> None:
        self._deps = deps  # Spark speaks WebSocket, so the shared HTTP client goes unused

    async def aclose(self) -> None:
        return None

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        text: list[str] = []
        calls: list[ToolCallOut] = []
        legacy_call: FunctionCallOut | None = None
        finish, usage = None, Usage()
        # Unguarded: nothing reached the caller yet, so failures stay retryable elsewhere.
        async for chunk in spark_frames_to_chunks(self._frames(request, channel), request):
            usage = chunk.usage or usage
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                text.append(choice.delta.content or "")
                fc = choice.delta.function_call
                if fc is not None and fc.name:
                    legacy_call = FunctionCallOut(name=fc.name, arguments=fc.arguments or "")
                for call in choice.delta.tool_calls or []:
                    if call.function is not None and call.function.name and call.id:
                        out = FunctionCallOut(
                            name=call.function.name, arguments=call.function.arguments or ""
                        )
                        calls.append(ToolCallOut(id=call.id, function=out))
        content = "".join(text)
        message = AssistantMessage(
            content=content or (None if calls or legacy_call else ""),
            tool_calls=calls or None,
            function_call=legacy_call,
        )
        return ChatCompletion(
            created=int(time.time()),
            model=request.model,
            choices=[Choice(index=0, message=message, finish_reason=finish or "stop")],
            usage=usage,
        )

    def stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        return guard_stream(
            spark_frames_to_chunks(self._frames(request, channel), request), "Spark"
        )

    async def _frames(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[SparkFrame]:
        path, domain = _version(channel, request)
        app_id, api_key, api_secret = _credentials(channel)
        cap = int(channel.options.get("max_tokens_cap", MAX_TOKENS_CAP))
        body = openai_to_spark(request, SparkTarget(app_id, domain, cap)).body()
        url = signed_url(base_url_of(channel, DEFAULT_BASE_URL), path, api_key, api_secret)
        try:
            async with connect(
                url,
                open_timeout=channel.connect_timeout,
                close_timeout=1,
                max_size=MAX_FRAME_BYTES,
            ) as ws:
                await ws.send(json.dumps(body))
                while True:
                    async with asyncio.timeout(channel.read_timeout):
                        raw = await ws.recv()
                    frame = _frame(raw)
                    if frame.header.code != 0:
                        raise spark_error(frame.header.code, frame.header.message, frame.header.sid)
                    yield frame
                    if frame.is_last():
                        return
        except InvalidStatus as exc:
            raise handshake_error(
                exc.response.status_code, bytes(exc.response.body or b"")
            ) from None
        except ConnectionClosed:
            raise UpstreamError(
                502,
                "Spark closed the connection before the last frame",
                code="upstream_truncated",
                retryable=True,
            ) from None
        except TimeoutError:
            raise UpstreamError(
                504, "Spark timed out", code="upstream_timeout", retryable=True
            ) from None
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            raise UpstreamError(
                502,
                f"Spark connection failed: {type(exc).__name__}: {exc}",
                code="upstream_unreachable",
                retryable=True,
            ) from None


def _frame(raw: str | bytes) -> SparkFrame:
    try:
        return SparkFrame.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise malformed("Spark", f"bad frame ({type(exc).__name__})") from None


def _version(channel: ChannelConfig, request: ChatCompletionRequest) -> tuple[str, str]:
    """Path and domain: `options` `path`/`domain` win over the version table."""
    opts = channel.options
    name = str(opts.get("version") or channel.upstream_model or request.model)
    version = ALIASES.get(name.lower(), name)
    path, domain = VERSIONS.get(version, (opts.get("path"), opts.get("domain")))
    path, domain = opts.get("path", path), opts.get("domain", domain)
    if not path or not domain:
        raise UpstreamError(
            500,
            f"Spark channel has an unknown version '{name}'; set options.version to one of "
            f"{sorted(VERSIONS)} or give options.path and options.domain",
            type="server_error",
            code="channel_misconfigured",
            retryable=True,
        )
    return str(path), str(domain)


def _credentials(channel: ChannelConfig) -> tuple[str, str, str]:
    opts = channel.options
    keys = channel.keys()
    app_id = opts.get("app_id")
    api_key = opts.get("api_key") or (keys[0] if keys else None)
    api_secret = opts.get("api_secret")
    if not (app_id and api_key and api_secret):
        raise UpstreamError(
            500,
            "Spark channel needs options.app_id, options.api_secret and an api_key",
            type="server_error",
            code="channel_misconfigured",
            retryable=True,
        )
    return str(app_id), str(api_key), str(api_secret)
