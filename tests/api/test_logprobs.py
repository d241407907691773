"""`logprobs` / `top_logprobs` from the local engine through `/v1/chat/completions`, with the
official SDK: real log probabilities, sync and streamed, in OpenAI's shape."""

from __future__ import annotations

import math

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionTokenLogprob

from tests.support.server import RunningServer

QUESTION: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Name three colours."}]


def _check_tokens(tokens: list[ChatCompletionTokenLogprob], top: int, greedy: bool) -> None:
    assert tokens
    for token in tokens:
        assert token.logprob <= 0.0 and math.isfinite(token.logprob)
        assert token.bytes is not None and bytes(token.bytes).decode("utf-8") == token.token
        assert len(token.top_logprobs) == top
        values = [t.logprob for t in token.top_logprobs]
        assert values == sorted(values, reverse=True)
        assert all(v <= 0.0 for v in values)
        if greedy:  # temperature 0: the chosen token is the likeliest one
            assert token.top_logprobs[0].token == token.token
            assert token.top_logprobs[0].logprob == pytest.approx(token.logprob)
        elif token.top_logprobs:
            assert token.logprob <= token.top_logprobs[0].logprob + 1e-6


def test_sync_logprobs(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name,
        messages=QUESTION,
        max_tokens=12,
        temperature=0,
        logprobs=True,
        top_logprobs=2,
    )
    choice = reply.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content is not None
    assert choice.logprobs.refusal is None
    tokens = choice.logprobs.content
    _check_tokens(tokens, 2, greedy=True)
    assert "".join(t.token for t in tokens) == choice.message.content
    assert reply.usage is not None and len(tokens) == reply.usage.completion_tokens


def test_logprobs_without_top(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name, messages=QUESTION, max_tokens=5, logprobs=True, temperature=0.9, seed=3
    )
    choice = reply.choices[0]
    assert choice.logprobs is not None and choice.logprobs.content is not None
    _check_tokens(choice.logprobs.content, 0, greedy=False)


def test_no_logprobs_unless_asked(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(model=model_name, messages=QUESTION, max_tokens=3)
    assert reply.choices[0].logprobs is None


def test_streamed_logprobs(client: openai.OpenAI, model_name: str) -> None:
    stream = client.chat.completions.create(
        model=model_name,
        messages=QUESTION,
        max_tokens=12,
        temperature=0,
        logprobs=True,
        top_logprobs=3,
        stream=True,
        stream_options={"include_usage": True},
    )
    content, tokens, usage = "", [], None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            piece = choice.delta.content or ""
            content += piece
            if piece:  # each chunk with text carries the logprobs of the tokens behind it
                assert choice.logprobs is not None and choice.logprobs.content
            if choice.logprobs is not None and choice.logprobs.content:
                assert "".join(t.token for t in choice.logprobs.content) == piece
                tokens.extend(choice.logprobs.content)
    _check_tokens(tokens, 3, greedy=True)
    assert "".join(t.token for t in tokens) == content
    assert usage is not None and len(tokens) == usage.completion_tokens


def test_n_choices_each_have_logprobs(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name, messages=QUESTION, max_tokens=4, n=2, logprobs=True, top_logprobs=1
    )
    for choice in reply.choices:
        assert choice.logprobs is not None and choice.logprobs.content
        _check_tokens(choice.logprobs.content, 1, greedy=False)


@pytest.mark.parametrize("extra", [{"logprobs": True, "top_logprobs": 21}, {"top_logprobs": 2}])
def test_bad_top_logprobs_is_400(
    server: RunningServer, model_name: str, extra: dict[str, object]
) -> None:
    body = {"model": model_name, "messages": QUESTION, "max_tokens": 2, **extra}
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    response = httpx.post(
        server.api_url + "/chat/completions", json=body, headers=headers, timeout=30
    )
    assert response.status_code == 400
    assert "top_logprobs" in response.json()["error"]["message"]
