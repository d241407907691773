"""OpenAI's `choices[].logprobs` object of chat completions (and of each chunk's choice)."""

from __future__ import annotations

from pydantic import Field

from .base import WireModel


class TopLogprob(WireModel):
    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(TopLogprob):
    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class ChoiceLogprobs(WireModel):
    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None


def token_string(raw: bytes) -> str:
    """A token's text; a token that is part of a UTF-8 character (byte-level vocabularies split
    them) is spelled as OpenAI spells it, `bytes:\\xe6\\x98`, and its `bytes` say what it is."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes:" + "".join(f"\\x{b:02x}" for b in raw)
