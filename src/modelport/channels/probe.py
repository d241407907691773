"""Testing a channel: one small real chat request through its provider."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from ..protocol.chat import ChatCompletionRequest
from ..protocol.errors import APIError
from ..providers.errors import UpstreamError
from ..providers.redact import channel_secrets, redact
from ..providers.registry import ProviderRegistry
from ..settings import ChannelConfig

log = logging.getLogger("modelport.channels")
PROBE_TEXT = "hi"
PROBE_TOKENS = 1  # the answer's content is not looked at: one token proves the channel works


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    latency_ms: int
    # The vendor's HTTP status when it answered with one (401 for a refused key), else the
    # status we give the failure (504 for no answer in time)
    status: int | None = None
    error: str | None = None  # the vendor's message, the channel's secrets removed
    code: str | None = None


async def probe_channel(
    channel: ChannelConfig, model: str, providers: ProviderRegistry, *, timeout: float = 30.0
) -> ProbeResult:
    """Ask the channel for a one-token answer, not streamed; never raises for the
    upstream's failure (nor for a provider's bug: a probe runs unattended)."""
    request = ChatCompletionRequest.model_validate(
        {
            "model": model,
            "messages": [{"role": "user", "content": PROBE_TEXT}],
            "max_tokens": PROBE_TOKENS,
            "stream": False,
        }
    )
    started = time.perf_counter()
    try:
        provider = providers.get(channel.provider)
        async with asyncio.timeout(timeout):
            await provider.complete(request, channel)
    except APIError as exc:
        status = exc.upstream_status if isinstance(exc, UpstreamError) else None
        return _failed(started, channel, exc.message, status or exc.status, exc.code)
    except TimeoutError:
        return _failed(started, channel, f"no answer within {timeout:g} s", 504, "timeout")
    except Exception as exc:  # a provider's bug: reported on the channel, logged for us
        log.exception("testing channel %s failed", channel.id or channel.name)
        return _failed(started, channel, f"the test failed: {type(exc).__name__}", None, None)
    return ProbeResult(ok=True, latency_ms=_since(started))


def _failed(
    started: float, channel: ChannelConfig, message: str, status: int | None, code: str | None
) -> ProbeResult:
    text = redact(message, channel_secrets(channel))
    return ProbeResult(False, _since(started), status, text, code)


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
