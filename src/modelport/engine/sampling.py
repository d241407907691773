"""Sampling parameters and the per-sequence llama.cpp sampler chain that honours them."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Any

import llama_cpp as ll

RANDOM_SEED = 0xFFFFFFFF  # llama.cpp's LLAMA_DEFAULT_SEED: draw a random seed


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 1.0
    top_k: int = 0  # 0: off
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    penalty_window: int = 256
    logit_bias: dict[int, float] = field(default_factory=dict)
    seed: int | None = None
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    grammar: str | None = None  # GBNF, root rule "root"
    logprobs: int | None = None  # None: none; n: each token's logprob and the n likeliest

    @property
    def reproducible(self) -> bool:
        """The caller asked for the same answer to the same request (greedy, or a seed)."""
        return self.temperature <= 0.0 or self.seed is not None


def build_sampler(params: SamplingParams, vocab: Any, n_vocab: int) -> Any:
    """A sampler chain: bias → penalties → grammar → (greedy | top-k → top-p → temp → dist).

    Grammar comes before truncation so the sampled token is always grammatical.
    """
    chain_params = ll.llama_sampler_chain_default_params()
    chain_params.no_perf = True
    chain = ll.llama_sampler_chain_init(chain_params)
    add = ll.llama_sampler_chain_add
    bias = {t: b for t, b in params.logit_bias.items() if 0 <= t < n_vocab}
    if bias:
        array = (ll.llama_logit_bias * len(bias))()
        for i, (token, value) in enumerate(bias.items()):
            # OpenAI: -100 bans, +100 forces; llama.cpp adds the bias to the logit.
            array[i] = ll.llama_logit_bias(token, float("-inf") if value <= -100 else value)
        add(chain, ll.llama_sampler_init_logit_bias(n_vocab, len(bias), array))
    if params.presence_penalty or params.frequency_penalty:
        add(
            chain,
            ll.llama_sampler_init_penalties(
                n_vocab,
                params.penalty_window,
                1.0,
                params.frequency_penalty,
                params.presence_penalty,
            ),
        )
    if params.grammar:
        sampler = ll.llama_sampler_init_grammar(vocab, params.grammar.encode(), b"root")
        if not sampler:
            ll.llama_sampler_free(chain)
            raise ValueError("the grammar could not be compiled")
        add(chain, sampler)
    if params.temperature <= 0.0:
        add(chain, ll.llama_sampler_init_greedy())
        return chain
    if params.top_k > 0:
        add(chain, ll.llama_sampler_init_top_k(params.top_k))
    if params.top_p < 1.0:
        add(chain, ll.llama_sampler_init_top_p(params.top_p, 1))
    add(chain, ll.llama_sampler_init_temp(params.temperature))
    seed = RANDOM_SEED if params.seed is None else params.seed & 0xFFFFFFFF
    if seed == RANDOM_SEED and params.seed is not None:
        seed = 0xFFFFFFFE  # a caller's explicit seed must stay deterministic
    add(chain, ll.llama_sampler_init_dist(ctypes.c_uint32(seed).value))
    return chain


def sample(chain: Any, ctx: Any, batch_index: int) -> int:
    """Sample from the logits at `batch_index` of the last decode (also accepts the token)."""
    return int(ll.llama_sampler_sample(chain, ctx, batch_index))


def free_sampler(chain: Any) -> None:
    ll.llama_sampler_free(chain)
