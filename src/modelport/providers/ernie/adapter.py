"""Baidu ERNIE over Qianfan v1 on `HTTPAdapter`: chat over HTTP + SSE with an OAuth token.

ERNIE's quirks, on top of the shared driver:
- the access token (from AK/SK, see `token.py`) travels as the `access_token` query param;
- failures arrive as a 200 JSON body with `error_code` (for a stream: a JSON body instead of
  an event stream);
- a rejected token (110/111) is renewed and the call made once more: Qianfan refused the
  first before running it, so nothing ran twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import ChatCompletion
from ...settings import ChannelConfig
from ..base import ProviderDeps
from ..driver import Call, HTTPAdapter, base_url_of, convert
from ..errors import UpstreamError, malformed
from ..http_client import UpstreamBody, parse_json
from .codes import TOKEN_CODES, ernie_error, http_error
from .convert import ernie_to_openai, openai_to_ernie
from .options import ErnieOptions, credentials
from .reader import ErnieReader
from .token import TokenCache
from .wire import ErnieChatResponse, ErnieErrorBody, refusal_in

VENDOR = "ERNIE"
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
ATTEMPTS = 2  # the second only after a rejected token


class ErnieProvider(HTTPAdapter):
    vendor = VENDOR
    Options = ErnieOptions

    def __init__(self, deps: ProviderDeps) -> None:
        super().__init__(deps)
        self._tokens = TokenCache(deps.http)

    async def aclose(self) -> None:
        self._tokens.clear()

    async def call(
        self, request: ChatCompletionRequest, channel: ChannelConfig, *, stream: bool
    ) -> Call:
        options = channel.typed_options(ErnieOptions)
        # Built first: a request ERNIE cannot serve is refused before any token is fetched.
        ernie = openai_to_ernie(
            request, stream=stream, max_output_cap=options.max_output_tokens_cap
        )
        base = base_url_of(channel, DEFAULT_BASE_URL)
        token = await self._tokens.token(channel, base, credentials(channel))
        endpoint = options.endpoint or _endpoint_for(channel.upstream_model or request.model)
        return Call(f"{base}{CHAT_PATH}{endpoint}", {}, ernie.body(), {"access_token": token})

    def error_from(self, status: int, raw: bytes, headers: Mapping[str, str]) -> UpstreamError:
        return http_error(status, raw, headers)

    def completion_from(
        self, data: dict[str, Any], request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        refusal = refusal_in(data)
        if refusal is not None:
            raise _refusal_error(refusal)
        return ernie_to_openai(ErnieChatResponse.model_validate(data), request, request.model)

    def reader(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ErnieReader:
        return ErnieReader(request)

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        try:
            return await super().complete(request, channel)
        except TokenRejected:  # refused before it ran: once more with a new token
            self._tokens.forget_for(base_url_of(channel, DEFAULT_BASE_URL), credentials(channel))
            return await super().complete(request, channel)

    @asynccontextmanager
    async def open_stream(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> AsyncIterator[UpstreamBody]:
        """The answer's event stream; a refusal comes as one JSON body instead."""
        for attempt in range(1, ATTEMPTS + 1):
            call = await self.call(request, channel, stream=True)
            async with self._http.stream(
                call.url,
                body=call.body,
                headers=call.headers,
                channel=channel,
                on_error=self.error_from,
                vendor=VENDOR,
                params=call.params,
            ) as body:
                if "event-stream" in body.headers.get("content-type", ""):
                    yield body
                    return
                self._refused(_refusal_of(await body.read()), call, last=attempt == ATTEMPTS)
        raise AssertionError("unreachable: the last attempt yields or raises")

    def _refused(self, refusal: ErnieErrorBody, call: Call, *, last: bool) -> None:
        """Renew a rejected token for one more attempt; raise any other refusal."""
        if refusal.error_code in TOKEN_CODES and not last:
            self._tokens.forget((call.params or {}).get("access_token", ""))
            return
        raise ernie_error(refusal.error_code, refusal.error_msg)


class TokenRejected(UpstreamError):
    """Qianfan refused the access token (before running the request)."""


def _refusal_error(refusal: ErnieErrorBody) -> UpstreamError:
    error = ernie_error(refusal.error_code, refusal.error_msg)
    if refusal.error_code not in TOKEN_CODES:
        return error
    return TokenRejected(
        error.status, error.message, type=error.type, code=error.code, retryable=error.retryable
    )


def _endpoint_for(model: str) -> str:
    return ENDPOINTS.get(model.lower(), model)


def _refusal_of(raw: bytes) -> ErnieErrorBody:
    """The refusal a stream request got as a plain body (not an event stream)."""
    data = parse_json(raw, VENDOR)
    refusal = convert(refusal_in, data, VENDOR) if isinstance(data, dict) else None
    if refusal is None:
        raise malformed(VENDOR, "the stream answered neither events nor an error_code")
    return refusal
