"""`POST /v1/embeddings` in OpenAI's shape (Baichuan's is the same)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from .base import RequestModel, WireModel

MAX_INPUTS = 2048  # OpenAI's bound (LangChain sends 1000 at a time)
MAX_INPUT_CHARS = 8192
TOKEN_IDS = (
    "inputs given as token ids are not supported: ids belong to one tokenizer, and the ids "
    "clients send (LangChain's OpenAIEmbeddings sends tiktoken's) are not this model's; send "
    "the text (in LangChain: OpenAIEmbeddings(check_embedding_ctx_length=False))"
)


class EmbeddingRequest(RequestModel):
    model: str = Field(min_length=1)
    # Token ids are read (so the answer is the 400 below, not a type error) and refused.
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None
    # e5 embeds questions and documents differently; most callers embed documents.
    input_type: Literal["query", "passage"] = "passage"

    @field_validator("input")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        texts = [value] if isinstance(value, str) else value
        if not texts or len(texts) > MAX_INPUTS:
            raise ValueError(f"'input' takes 1 to {MAX_INPUTS} strings")
        if not all(isinstance(text, str) for text in texts):
            raise ValueError(TOKEN_IDS)
        if any(not t.strip() or len(t) > MAX_INPUT_CHARS for t in texts):
            raise ValueError(f"each input must be non-empty and at most {MAX_INPUT_CHARS} chars")
        return value

    def texts(self) -> list[str]:
        texts = [self.input] if isinstance(self.input, str) else self.input
        return [text for text in texts if isinstance(text, str)]  # all are, once validated


class Embedding(WireModel):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str  # base64 of little-endian float32 when asked for
    index: int


class EmbeddingUsage(WireModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(WireModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage
