"""`prompt_tokens_details.cached_tokens` and `completion_tokens_details.reasoning_tokens`:
passed through from OpenAI-compatible upstreams, read from Anthropic's and Gemini's usage,
and kept within bounds by the usage guard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from modelport.protocol.chat_response import Usage
from modelport.providers.anthropic.adapter import AnthropicProvider
from modelport.providers.base import ProviderDeps
from modelport.providers.budget import OutputBudget, guard_usage
from modelport.providers.gemini.adapter import GeminiProvider
from modelport.providers.openai_compat.adapter import OpenAICompatProvider
from modelport.settings import ChannelConfig
from tests.fakes.server import serve_asgi

from .helpers import chat, collect_with_end


def details(usage: Usage) -> tuple[int, int, int | None, int | None]:
    wire = usage.model_dump(mode="json")
    cached = (wire.get("prompt_tokens_details") or {}).get("cached_tokens")
    reasoning = (wire.get("completion_tokens_details") or {}).get("reasoning_tokens")
    return usage.prompt_tokens, usage.completion_tokens, cached, reasoning


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    from tests.fakes import anthropic_thinking, gemini_thinking, openai_reasoning

    with (
        serve_asgi(openai_reasoning.create_app()) as openai,
        serve_asgi(anthropic_thinking.create_app()) as anthropic,
        serve_asgi(gemini_thinking.create_app()) as gemini,
    ):
        yield {"openai": openai + "/v1", "anthropic": anthropic, "gemini": gemini}


def channel(urls: dict[str, str], provider: str, model: str) -> ChannelConfig:
    base = urls["openai" if provider == "openai_compat" else provider]
    return ChannelConfig(
        provider=provider, base_url=base, api_keys=["k"], upstream_model=model, read_timeout=5
    )


# (provider, upstream model, expected (prompt, completion, cached, reasoning))
CASES: list[tuple[str, str, tuple[int, int, int | None, int | None]]] = [
    ("openai_compat", "deepseek-reasoner", (10, 5, 6, 3)),  # "Thinking about why." + 2 words
    ("openai_compat", "qwen3-vllm", (10, 5, 6, 3)),
    ("anthropic", "claude-think", (12, 5, 6, None)),  # 4 + 6 read + 2 written; no split
    ("gemini", "gemini-2.5-flash", (10, 5, 6, 3)),
]


def provider_of(name: str, deps: ProviderDeps) -> Any:
    kinds = {
        "openai_compat": OpenAICompatProvider,
        "anthropic": AnthropicProvider,
        "gemini": GeminiProvider,
    }
    return kinds[name](deps)


@pytest.mark.parametrize(("provider", "model", "expected"), CASES)
async def test_details_whole(
    deps: ProviderDeps, urls: dict[str, str], provider: str, model: str, expected: Any
) -> None:
    request = chat("why", reasoning_effort="low")
    result = await provider_of(provider, deps).complete(request, channel(urls, provider, model))
    assert details(result.usage) == expected


@pytest.mark.parametrize(("provider", "model", "expected"), CASES)
async def test_details_streamed(
    deps: ProviderDeps, urls: dict[str, str], provider: str, model: str, expected: Any
) -> None:
    request = chat("why", reasoning_effort="low", stream=True)
    stream = provider_of(provider, deps).stream(request, channel(urls, provider, model))
    _, end = await collect_with_end(stream)
    assert details(end.usage) == expected


def test_details_absent_stay_absent_on_the_wire() -> None:
    wire = Usage.of(3, 4).model_dump(mode="json")
    assert wire == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def guarded(reported: Usage) -> tuple[Usage, bool]:
    return guard_usage(
        reported, chat("a b c"), prompt_chars=5, completion_chars=8, budget=OutputBudget(100)
    )


def test_guard_keeps_honest_details() -> None:
    reported = Usage.of(10, 20, cached=4, reasoning=15)
    assert guarded(reported) == (reported, False)


@pytest.mark.parametrize(
    ("reported", "kept"),
    [
        (Usage.of(10, 20, cached=11, reasoning=15), (10, 20, 10, 15)),  # cached > prompt
        (Usage.of(10, 20, cached=4, reasoning=21), (10, 20, 4, 20)),  # reasoning > completion
        (Usage.of(10, 20, cached=-5, reasoning=-1), (10, 20, 0, 0)),  # negative
        (Usage.of(10, 500, cached=4, reasoning=400), (10, 100, 4, 100)),  # past the budget
    ],
)
def test_guard_bounds_details(reported: Usage, kept: tuple[int, ...]) -> None:
    usage, corrected = guarded(reported)
    assert details(usage) == kept
    assert corrected  # booked as an estimate
