"""Baidu ERNIE over Qianfan v1: OAuth access tokens from AK/SK, chat over HTTP + SSE."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import (
    ChatCompletion,
    ChatCompletionChunk,
    ChunkChoice,
    Delta,
    FunctionCallDelta,
    ToolCallDelta,
    completion_id,
)
from ...settings import ChannelConfig
from ..base import ProviderDeps
from ..chunks import tool_call_id
from ..errors import UpstreamError
from ..http import (
    base_url_of,
    guard_stream,
    malformed,
    timeout_for,
    transport_error,
    upstream_error,
)
from ..sse import iter_sse
from .codes import TOKEN_CODES, ernie_error, http_error
from .convert import ernie_to_openai, finish_reason, openai_to_ernie, usage_of
from .wire import ErnieChatResponse, ErnieErrorBody, ErnieTokenResponse

DEFAULT_BASE_URL = "https://aip.baidubce.com"
CHAT_PATH = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/"
# Public model names → Qianfan endpoint names; anything else is taken as the endpoint itself.
ENDPOINTS = {
    "ernie-bot": "completions",
    "ernie-3.5-8k": "completions",
    "ernie-bot-4": "completions_pro",
    "ernie-4.0-8k": "completions_pro",
    "ernie-bot-turbo": "eb-instant",
    "ernie-speed-8k": "ernie_speed",
}
# ERNIE-3.5/4.0 8K models take at most 2048; options.max_output_tokens_cap changes it.
MAX_OUTPUT_TOKENS_CAP = 2048
M = TypeVar("M", ErnieChatResponse, ErnieErrorBody, ErnieTokenResponse)
# Refresh once this share of a token's lifetime has passed, well before Baidu expires it.
REFRESH_AT = 0.9


@dataclass
class _Token:
    value: str
    refresh_at: float


class ErnieProvider:
    def __init__(self, deps: ProviderDeps) -> None:
        self._http = deps.http
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def aclose(self) -> None:
        self._tokens.clear()

    # --- access tokens ---------------------------------------------------------------------

    async def _token(self, channel: ChannelConfig, stale: str | None = None) -> str:
        """A cached token for the channel's AK; `stale` names one the upstream just rejected."""
        base = _base_url(channel)
        ak, sk = _credentials(channel)
        key = (base, ak)
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._tokens.get(key)
            if (
                cached is not None
                and cached.value != stale
                and time.monotonic() < cached.refresh_at
            ):
                return cached.value
            token = await self._fetch_token(channel, base, ak, sk)
            self._tokens[key] = token
            return token.value

    async def _fetch_token(self, channel: ChannelConfig, base: str, ak: str, sk: str) -> _Token:
        params = {"grant_type": "client_credentials", "client_id": ak, "client_secret": sk}
        started = time.monotonic()  # the lifetime counts from the request, to be safe
        try:
            response = await self._http.post(
                f"{base}/oauth/2.0/token", params=params, timeout=timeout_for(channel)
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, "ERNIE") from None
        data = _json(response.content)
        if response.status_code != 200 or "error" in data:
            detail = data.get("error_description") or data.get("error") or response.text[:200]
            status = response.status_code if response.status_code != 200 else 401
            raise upstream_error(
                status, f"ERNIE access token request failed: {detail}", code="ernie_token_failed"
            )
        token = _validate(ErnieTokenResponse, data)
        return _Token(token.access_token, started + token.expires_in * REFRESH_AT)

    # --- chat --------------------------------------------------------------------------------

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        body = _ernie_body(request, channel, stream=False)
        stale: str | None = None
        for attempt in range(2):
            token = await self._token(channel, stale)
            try:
                response = await self._http.post(
                    _chat_url(channel, request),
                    params={"access_token": token},
                    json=body,
                    timeout=timeout_for(channel),
                )
            except httpx.HTTPError as exc:
                raise transport_error(exc, "ERNIE") from None
            if response.status_code != 200:
                raise http_error(response.status_code, response.content)
            data = _json(response.content)
            if "error_code" in data:
                error = _validate(ErnieErrorBody, data)
                if error.error_code in TOKEN_CODES and attempt == 0:
                    stale = token
                    continue
                raise ernie_error(error.error_code, error.error_msg)
            return ernie_to_openai(_validate(ErnieChatResponse, data), request, request.model)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        return guard_stream(self._stream(request, channel), "ERNIE")

    async def _stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[ChatCompletionChunk]:
        body = _ernie_body(request, channel, stream=True)
        stale: str | None = None
        for attempt in range(2):
            token = await self._token(channel, stale)
            try:
                async with self._http.stream(
                    "POST",
                    _chat_url(channel, request),
                    params={"access_token": token},
                    json=body,
                    timeout=timeout_for(channel),
                ) as response:
                    if response.status_code != 200:
                        raise http_error(response.status_code, await response.aread())
                    if "event-stream" not in response.headers.get("content-type", ""):
                        # Errors come back as one plain JSON body, not as SSE.
                        data = _json(await response.aread())
                        error = _validate(ErnieErrorBody, data)
                        if error.error_code in TOKEN_CODES and attempt == 0:
                            stale = token
                            continue
                        raise ernie_error(error.error_code, error.error_msg)
                    async for chunk in _ernie_events_to_chunks(response, request):
                        yield chunk
                    return
            except httpx.HTTPError as exc:
                raise transport_error(exc, "ERNIE") from None


async def _ernie_events_to_chunks(
    response: httpx.Response, request: ChatCompletionRequest
) -> AsyncIterator[ChatCompletionChunk]:
    chunk_id, created = completion_id(), int(time.time())
    first = True
    async for event in iter_sse(response.aiter_lines()):
        data = _json(event.data)
        if "error_code" in data:
            error = _validate(ErnieErrorBody, data)
            raise ernie_error(error.error_code, error.error_msg)
        part = _validate(ErnieChatResponse, data)
        delta = Delta(role="assistant" if first else None, content=part.result or None)
        if part.function_call is not None:
            call = part.function_call
            if request.uses_legacy_functions():
                delta.function_call = FunctionCallDelta(name=call.name, arguments=call.arguments)
            else:
                fn = FunctionCallDelta(name=call.name, arguments=call.arguments)
                delta.tool_calls = [
                    ToolCallDelta(index=0, id=tool_call_id(), type="function", function=fn)
                ]
        first = False
        # ERNIE's usage is cumulative, so the last event's figures are the totals.
        finish = finish_reason(part, request) if part.is_end else None
        yield ChatCompletionChunk(
            id=chunk_id,
            created=created,
            model=request.model,
            choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)],
            usage=usage_of(part.usage) if part.is_end else None,
        )
        if part.is_end:
            return
    raise UpstreamError(
        502, "ERNIE stream ended before is_end", code="upstream_truncated", retryable=True
    )


def _ernie_body(
    request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
) -> dict[str, Any]:
    cap = int(channel.options.get("max_output_tokens_cap", MAX_OUTPUT_TOKENS_CAP))
    return openai_to_ernie(request, stream=stream, max_output_cap=cap).body()


def _credentials(channel: ChannelConfig) -> tuple[str, str]:
    """AK/SK from `options` (`ak`/`sk` or `api_key`/`secret_key`) or a key written `AK|SK`."""
    opts = channel.options
    ak = opts.get("ak") or opts.get("api_key")
    sk = opts.get("sk") or opts.get("secret_key")
    if not (ak and sk):
        keys = channel.keys()
        if keys and "|" in keys[0]:
            ak, _, sk = keys[0].partition("|")
    if not (ak and sk):
        raise UpstreamError(
            500,
            "ERNIE channel needs an API key and secret key (options ak/sk or api_key 'AK|SK')",
            type="server_error",
            code="channel_misconfigured",
            retryable=True,
        )
    return str(ak), str(sk)


def _base_url(channel: ChannelConfig) -> str:
    return base_url_of(channel, DEFAULT_BASE_URL)


def _chat_url(channel: ChannelConfig, request: ChatCompletionRequest) -> str:
    endpoint = channel.options.get("endpoint")
    if not endpoint:
        model = channel.upstream_model or request.model
        endpoint = ENDPOINTS.get(model.lower(), model)
    return f"{_base_url(channel)}{CHAT_PATH}{endpoint}"


def _json(raw: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise malformed("ERNIE", f"invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise malformed("ERNIE", "expected a JSON object")
    return data


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise malformed("ERNIE", f"unexpected shape ({exc.error_count()} problems)") from None
