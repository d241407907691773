"""Log probabilities of a sampled token and of the likeliest alternatives at its position.

Read from the logits llama.cpp keeps for the batch position the token was sampled from (no
`logits_all`, no extra decode): one log-softmax over the vocabulary, only for sequences that
asked for logprobs. They are the model's own distribution, before the sampler's temperature,
penalties, bias or grammar, as OpenAI reports them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import llama_cpp as ll

from ..lazy_numpy import np

MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True)
class Candidate:
    token: int
    piece: bytes  # the bytes it adds to the text (a control token's text when it adds none)
    logprob: float


@dataclass(frozen=True)
class TokenLogprob:
    chosen: Candidate
    top: tuple[Candidate, ...]  # the `top_n` likeliest, likeliest first


def token_logprob(
    ctx: Any, batch_index: int, token: int, top_n: int, n_vocab: int, piece: Any
) -> TokenLogprob:
    """The logprob of `token` (and of the `top_n` likeliest tokens) at `batch_index` of the
    last decode. `piece(token) -> bytes` names a token."""
    pointer = ll.llama_get_logits_ith(ctx, batch_index)
    logits = np.ctypeslib.as_array(pointer, shape=(n_vocab,))
    peak = float(logits.max())
    log_total = peak + math.log(float(np.exp(logits - peak, dtype=np.float64).sum()))
    chosen = Candidate(token, piece(token), float(logits[token]) - log_total)
    top: tuple[Candidate, ...] = ()
    if top_n > 0:
        count = min(top_n, MAX_TOP_LOGPROBS, n_vocab)
        best = np.argpartition(logits, n_vocab - count)[n_vocab - count :]
        best = best[np.argsort(-logits[best], kind="stable")]
        top = tuple(Candidate(int(t), piece(int(t)), float(logits[t]) - log_total) for t in best)
    return TokenLogprob(chosen, top)
