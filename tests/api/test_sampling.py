"""Every sampling field changes what the local engine does (none is accepted and dropped)."""

from __future__ import annotations

from collections import Counter

import openai
import pytest

from modelport.engine.native import NativeModel

PROMPT = [{"role": "user", "content": "Write a sentence about the sea."}]


def _ask(client: openai.OpenAI, model: str, **kwargs: object) -> str:
    kwargs.setdefault("max_tokens", 16)
    reply = client.chat.completions.create(model=model, messages=PROMPT, **kwargs)  # type: ignore[call-overload]
    return reply.choices[0].message.content or ""


def test_temperature_zero_is_deterministic(client: openai.OpenAI, model_name: str) -> None:
    assert _ask(client, model_name, temperature=0) == _ask(client, model_name, temperature=0)


def test_equal_seed_equal_text_other_seed_other_text(
    client: openai.OpenAI, model_name: str
) -> None:
    a = _ask(client, model_name, temperature=1.2, seed=11, max_tokens=24)
    b = _ask(client, model_name, temperature=1.2, seed=11, max_tokens=24)
    others = {_ask(client, model_name, temperature=1.2, seed=s, max_tokens=24) for s in (12, 13)}
    assert a == b
    assert others - {a}, "different seeds should not all give the seed-11 text"


def test_top_k_one_is_greedy(client: openai.OpenAI, model_name: str) -> None:
    greedy = _ask(client, model_name, temperature=0)
    for seed in (1, 2):
        sampled = _ask(client, model_name, temperature=1.5, extra_body={"top_k": 1}, seed=seed)
        assert sampled == greedy


def test_top_k_over_twenty_is_clamped_not_refused(client: openai.OpenAI, model_name: str) -> None:
    # Baichuan: over 20 means 20. The same seed then samples the same text as top_k 20.
    over = _ask(client, model_name, temperature=1.5, extra_body={"top_k": 500}, seed=1)
    assert over == _ask(client, model_name, temperature=1.5, extra_body={"top_k": 20}, seed=1)


def test_tiny_top_p_is_greedy(client: openai.OpenAI, model_name: str) -> None:
    greedy = _ask(client, model_name, temperature=0)
    assert _ask(client, model_name, temperature=1.5, top_p=0.0, seed=5) == greedy


def test_high_temperature_departs_from_greedy(client: openai.OpenAI, model_name: str) -> None:
    greedy = _ask(client, model_name, temperature=0)
    samples = {_ask(client, model_name, temperature=1.5, seed=s) for s in range(3)}
    assert samples - {greedy}


def test_logit_bias_minus_100_bans_a_token(
    client: openai.OpenAI, model_name: str, tokenizer: NativeModel
) -> None:
    greedy = _ask(client, model_name, temperature=0)
    first = tokenizer.tokenize(greedy, add_special=False, parse_special=False)[0]
    banned = _ask(client, model_name, temperature=0, logit_bias={str(first): -100})
    tokens = tokenizer.tokenize(banned, add_special=False, parse_special=False)
    assert first not in tokens
    assert banned != greedy


def test_logit_bias_plus_100_forces_a_token(
    client: openai.OpenAI, model_name: str, tokenizer: NativeModel
) -> None:
    (banana,) = tokenizer.tokenize(" banana", add_special=False, parse_special=False)[:1]
    forced = _ask(client, model_name, temperature=0, logit_bias={str(banana): 100}, max_tokens=4)
    assert forced.count("banana") == 4


def _top_repeat(text: str) -> int:
    words = [w.strip(".,!?").lower() for w in text.split()]
    return max(Counter(words).values()) if words else 0


@pytest.mark.parametrize("field", ["frequency_penalty", "presence_penalty"])
def test_penalties_reduce_repetition(client: openai.OpenAI, model_name: str, field: str) -> None:
    # This tiny model loops on this question under greedy decoding ("la femme au martyre, ...").
    loop = [{"role": "user", "content": "What is the capital of France?"}]

    def ask(**kwargs: object) -> str:
        reply = client.chat.completions.create(
            model=model_name,
            messages=loop,
            max_tokens=40,
            temperature=0,
            **kwargs,  # type: ignore[call-overload]
        )
        return reply.choices[0].message.content or ""

    plain, penalised = ask(), ask(**{field: 2.0})
    assert penalised != plain
    assert _top_repeat(penalised) < _top_repeat(plain)


def test_baichuan_style_request_is_served(client: openai.OpenAI, model_name: str) -> None:
    reply = client.chat.completions.create(
        model=model_name,
        messages=[{"role": "user", "content": "世界第一高峰是?"}],
        temperature=0.3,
        top_p=0.85,
        max_tokens=8,
        extra_body={"top_k": 5, "with_search_enhance": False, "some_future_field": {"x": 1}},
    )
    assert reply.choices[0].message.content
