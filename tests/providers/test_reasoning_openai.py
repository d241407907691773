"""Reasoning from OpenAI-compatible upstreams: DeepSeek's `reasoning_content` and vLLM's
`reasoning`, relayed as `reasoning_content` whole and streamed; `reasoning_effort` passed on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from modelport.providers.base import ProviderDeps
from modelport.providers.openai_compat.adapter import OpenAICompatProvider
from modelport.settings import ChannelConfig
from tests.fakes.server import serve_asgi

from .helpers import chat, collect, streamed_text


@pytest.fixture(scope="module")
def reasoning_app() -> Any:
    from tests.fakes.openai_reasoning import create_app

    return create_app()


@pytest.fixture(scope="module")
def reasoning_url(reasoning_app: Any) -> Iterator[str]:
    with serve_asgi(reasoning_app) as url:
        yield url + "/v1"


def channel_for(url: str, upstream_model: str) -> ChannelConfig:
    return ChannelConfig(
        provider="openai_compat", base_url=url, upstream_model=upstream_model, read_timeout=5
    )


STYLES = ["deepseek-reasoner", "qwen3-vllm"]  # reasoning_content, reasoning


@pytest.mark.parametrize("upstream_model", STYLES)
async def test_reasoning_relayed_whole(
    deps: ProviderDeps, reasoning_url: str, upstream_model: str
) -> None:
    provider = OpenAICompatProvider(deps)
    result = await provider.complete(chat("2+2"), channel_for(reasoning_url, upstream_model))
    message = result.choices[0].message
    assert message.content == "Answer: 2+2"
    assert message.reasoning_content == "Thinking about 2+2."
    wire = result.model_dump(mode="json")["choices"][0]["message"]
    assert wire["reasoning_content"] == "Thinking about 2+2."
    assert "reasoning" not in wire


@pytest.mark.parametrize("upstream_model", STYLES)
async def test_reasoning_relayed_streamed(
    deps: ProviderDeps, reasoning_url: str, upstream_model: str
) -> None:
    provider = OpenAICompatProvider(deps)
    channel = channel_for(reasoning_url, upstream_model)
    chunks = await collect(provider.stream(chat("2+2", stream=True), channel))
    reasoning = "".join(c.delta.reasoning_content or "" for ch in chunks for c in ch.choices)
    assert reasoning == "Thinking about 2+2."
    assert streamed_text(chunks) == "Answer: 2+2"


async def test_reasoning_effort_passed_through(
    deps: ProviderDeps, reasoning_url: str, reasoning_app: Any
) -> None:
    provider = OpenAICompatProvider(deps)
    channel = channel_for(reasoning_url, "deepseek-reasoner")
    await provider.complete(chat("hi", reasoning_effort="low"), channel)
    assert reasoning_app.state.requests[-1]["reasoning_effort"] == "low"
    await provider.complete(chat("hi"), channel)
    assert "reasoning_effort" not in reasoning_app.state.requests[-1]


def test_reasoning_effort_values_checked() -> None:
    assert chat("hi", reasoning_effort="minimal").wants_reasoning()
    assert not chat("hi", reasoning_effort="none").wants_reasoning()
    with pytest.raises(ValidationError):
        chat("hi", reasoning_effort="extreme")
