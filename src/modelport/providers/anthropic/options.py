"""What an Anthropic channel may set in its `options` (checked when the catalogue loads)."""

from __future__ import annotations

from pydantic import BaseModel


class AnthropicOptions(BaseModel, extra="forbid"):
    # The output limit sent when the client sets none (Anthropic requires one); unset: 4096.
    max_tokens: int | None = None
