"""Rerank through upstream channels: each channel's keys in turn, then the next channel.

As for chat, only a failure that sent nothing or a retryable status (429, 408, 5xx) moves on;
a 4xx about the request itself, or an unreadable answer, is final.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..protocol.rerank import RerankRequest
from ..providers.errors import UpstreamError, misconfigured
from ..providers.http_client import UpstreamHTTP
from ..providers.redact import channel_secrets
from ..settings import ChannelConfig, RerankModelConfig
from .vendors import VENDOR_NAMES, Ranking, call, error_from, ranking


@dataclass(frozen=True, slots=True)
class Reranked:
    ranking: Ranking
    channel: ChannelConfig


async def rerank_upstream(
    http: UpstreamHTTP, model: RerankModelConfig, request: RerankRequest
) -> Reranked:
    last: UpstreamError | None = None
    for channel in model.channels:
        keys = channel.keys()
        if not keys:
            last = misconfigured(f"a channel of {model.name} has no api_key")
            continue
        secrets = channel_secrets(channel)
        provider = channel.provider
        for key in keys:
            wire = call(channel, request, key)
            try:
                data = await http.post_json(
                    wire.url,
                    body=wire.body,
                    headers=wire.headers,
                    channel=channel,
                    on_error=functools.partial(error_from, provider, secrets=secrets),
                    vendor=VENDOR_NAMES[provider],
                )
            except UpstreamError as exc:
                if not exc.retryable:
                    raise
                last = exc
                continue
            return Reranked(ranking(provider, data, request), channel)
    assert last is not None  # a model has at least one channel (settings)
    raise last
