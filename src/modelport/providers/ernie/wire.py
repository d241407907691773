"""Baidu Qianfan v1 ("wenxinworkshop") wire types: the chat request, its responses, the token.

Field names follow Baidu's published API. Responses accept unknown fields (Baidu adds them over
time); a response missing what we rely on fails validation and becomes a malformed-upstream error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErnieFunctionCall(_Wire):
    name: str
    arguments: str = ""
    thoughts: str | None = None


class ErnieMessage(_Wire):
    role: Literal["user", "assistant", "function"]
    content: str = ""
    name: str | None = None
    function_call: ErnieFunctionCall | None = None


class ErnieFunction(_Wire):
    name: str
    description: str
    parameters: dict[str, Any]


class ErnieChatRequest(_Wire):
    messages: list[ErnieMessage]
    system: str | None = None
    functions: list[ErnieFunction] | None = None
    temperature: float | None = None
    top_p: float | None = None
    penalty_score: float | None = None
    max_output_tokens: int | None = None
    stop: list[str] | None = None
    user_id: str | None = None
    response_format: Literal["text", "json_object"] | None = None
    stream: bool = False

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ErnieUsage(_Wire):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ErnieChatResponse(_Wire):
    """A whole answer, or one SSE event of a stream (then `is_end` marks the last)."""

    id: str = ""
    created: int = 0
    result: str = ""
    is_end: bool = False
    is_truncated: bool = False
    finish_reason: str | None = None
    need_clear_history: bool = False
    function_call: ErnieFunctionCall | None = None
    usage: ErnieUsage | None = None


class ErnieEvent(ErnieChatResponse):
    """One stream event, read in one pass: a part of the answer, or a refusal mid-stream."""

    error_code: int | None = None
    error_msg: str = ""


class ErnieErrorBody(_Wire):
    """Qianfan reports failures inside a 200 body."""

    error_code: int
    error_msg: str = ""


def refusal_in(data: dict[str, Any]) -> ErnieErrorBody | None:
    """The refusal a 200 body carries instead of an answer, if it does."""
    return ErnieErrorBody.model_validate(data) if "error_code" in data else None


class ErnieTokenResponse(_Wire):
    access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)
