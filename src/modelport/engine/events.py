"""What the engine thread reports to a waiting request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TextDelta:
    text: str
    tokens: int  # tokens produced so far by this sequence


@dataclass(frozen=True)
class Finished:
    reason: Literal["stop", "length", "cancelled"]
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Failed:
    message: str


EngineEvent = TextDelta | Finished | Failed


class EngineBusy(Exception):
    """The wait queue is full; the caller should retry later."""


class EngineClosed(Exception):
    """The engine is shutting down."""
