"""Anthropic thinking as OpenAI's `reasoning_content`, and `reasoning_effort` as a budget."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelport.providers.anthropic.adapter import AnthropicProvider
from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.settings import ChannelConfig
from tests.fakes.server import serve_asgi

from .helpers import chat, collect, streamed_text


@pytest.fixture(scope="module")
def thinking_app() -> Any:
    from tests.fakes.anthropic_thinking import create_app

    return create_app()


@pytest.fixture(scope="module")
def channel(thinking_app: Any) -> Iterator[ChannelConfig]:
    with serve_asgi(thinking_app) as url:
        yield ChannelConfig(
            provider="anthropic",
            base_url=url,
            api_keys=["sk-ant-test-1"],
            upstream_model="claude-think",
            read_timeout=5,
        )


def sent(app: Any) -> dict[str, Any]:
    body: dict[str, Any] = app.state.requests[-1]
    return body


async def test_thinking_relayed_whole(deps: ProviderDeps, channel: ChannelConfig) -> None:
    result = await AnthropicProvider(deps).complete(chat("why", reasoning_effort="low"), channel)
    message = result.choices[0].message
    assert message.content == "Answer: why"
    assert message.reasoning_content == "Thinking about why."


async def test_thinking_relayed_streamed(deps: ProviderDeps, channel: ChannelConfig) -> None:
    request = chat("why", reasoning_effort="low", stream=True)
    chunks = await collect(AnthropicProvider(deps).stream(request, channel))
    reasoning = [c.delta.reasoning_content for ch in chunks for c in ch.choices]
    assert "".join(r or "" for r in reasoning) == "Thinking about why."
    assert sum(r is not None for r in reasoning) == 3  # one delta a word
    assert streamed_text(chunks) == "Answer: why"


@pytest.mark.parametrize(
    ("effort", "budget"),
    [("minimal", 1024), ("low", 1024), ("medium", 4096), ("high", 16384), ("xhigh", 32768)],
)
async def test_effort_becomes_a_budget_above_the_default_limit(
    deps: ProviderDeps, channel: ChannelConfig, thinking_app: Any, effort: str, budget: int
) -> None:
    await AnthropicProvider(deps).complete(chat("hi", reasoning_effort=effort), channel)
    body = sent(thinking_app)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert body["max_tokens"] == 4096 + budget  # the answer keeps the default room


async def test_effort_budget_kept_below_the_clients_limit(
    deps: ProviderDeps, channel: ChannelConfig, thinking_app: Any
) -> None:
    request = chat("hi", reasoning_effort="high", max_tokens=3000)
    await AnthropicProvider(deps).complete(request, channel)
    body = sent(thinking_app)
    assert body["max_tokens"] == 3000
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2999}


async def test_too_small_a_limit_for_thinking_is_a_400(
    deps: ProviderDeps, channel: ChannelConfig, thinking_app: Any
) -> None:
    before = len(thinking_app.state.requests)
    request = chat("hi", reasoning_effort="medium", max_tokens=1024)
    with pytest.raises(UpstreamError) as caught:
        await AnthropicProvider(deps).complete(request, channel)
    assert caught.value.status == 400
    assert caught.value.param == "max_tokens"
    assert "Anthropic" in caught.value.message
    assert len(thinking_app.state.requests) == before  # refused here, not upstream


@pytest.mark.parametrize("effort", [None, "none"])
async def test_no_effort_no_thinking(
    deps: ProviderDeps, channel: ChannelConfig, thinking_app: Any, effort: str | None
) -> None:
    fields = {} if effort is None else {"reasoning_effort": effort}
    result = await AnthropicProvider(deps).complete(chat("hi", **fields), channel)
    body = sent(thinking_app)
    assert "thinking" not in body and body["max_tokens"] == 4096
    assert result.choices[0].message.reasoning_content is None
