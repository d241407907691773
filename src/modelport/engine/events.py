"""What the engine thread reports to a waiting request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .logprobs import TokenLogprob


@dataclass(frozen=True)
class TextDelta:
    text: str
    tokens: int  # tokens produced so far by this sequence
    # the tokens' logprobs since the last delta (when asked for): those whose bytes made the
    # text; a delta may carry only logprobs (tokens whose text was cut or is still held)
    logprobs: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True)
class Finished:
    reason: Literal["stop", "length", "cancelled"]
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0  # of the prompt tokens, found in the prefix cache


@dataclass(frozen=True)
class Failed:
    message: str


EngineEvent = TextDelta | Finished | Failed


class EngineBusy(Exception):
    """The wait queue is full; the caller should retry later."""


class EngineClosed(Exception):
    """The engine is shutting down."""
