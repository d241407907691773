"""Testing a channel: one small real chat request through its provider."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from ..protocol.chat import ChatCompletionRequest
from ..protocol.errors import APIError
from ..providers.redact import channel_secrets, redact
from ..providers.registry import ProviderRegistry
from ..settings import ChannelConfig

PROBE_TEXT = "hi"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    latency_ms: int
    status: int | None = None  # ours for the failure (the vendor's 401 shows as 400)
    error: str | None = None  # the vendor's message, secrets removed
    code: str | None = None


async def probe_channel(
    channel: ChannelConfig, model: str, providers: ProviderRegistry, *, timeout: float = 30.0
) -> ProbeResult:
    """Ask the channel for a one-token answer; never raises for the upstream's failure."""
    request = ChatCompletionRequest.model_validate(
        {"model": model, "messages": [{"role": "user", "content": PROBE_TEXT}], "max_tokens": 1}
    )
    started = time.perf_counter()
    try:
        provider = providers.get(channel.provider)
        async with asyncio.timeout(timeout):
            await provider.complete(request, channel)
    except APIError as exc:
        return _failed(started, channel, exc.message, exc.status, exc.code)
    except TimeoutError:
        return _failed(started, channel, f"no answer within {timeout:g} s", 504, "timeout")
    return ProbeResult(ok=True, latency_ms=_since(started))


def _failed(
    started: float, channel: ChannelConfig, message: str, status: int, code: str | None
) -> ProbeResult:
    text = redact(message, channel_secrets(channel))
    return ProbeResult(False, _since(started), status, text, code)


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
