"""What the engine tracks per sequence (one choice of one request) while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .detokenize import TextAssembler
from .generation import Generation
from .logprobs import TokenLogprob
from .sampling import SamplingParams


@dataclass(eq=False)
class PromptShare:
    """The prompt's KV cells, shared by a request's sequences and freed with the last one."""

    cells: int
    holders: int
    reused: int = 0  # of the prompt, found in the prefix cache


@dataclass(eq=False)
class Sequence:
    handle: Generation
    index: int
    params: SamplingParams
    prompt: list[int]
    sampler: Any
    assembler: TextAssembler
    seq_id: int = -1
    prefilled: int = 0
    position: int = 0
    next_token: int = -1
    generated: int = 0
    share: PromptShare | None = None
    followers: list[Sequence] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)  # not yet delivered
    decoded: list[int] = field(default_factory=list)  # completion tokens now in the KV cache

    @property
    def decoding(self) -> bool:
        return self.next_token >= 0

    @property
    def members(self) -> list[Sequence]:
        """A request's leader and the followers sharing its prefill."""
        return [self, *self.followers]

    @property
    def kv_need(self) -> int:
        """Cells a request reserves at admission: its prompt once, plus every completion."""
        return len(self.prompt) + sum(m.params.max_tokens for m in self.members)
