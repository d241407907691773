"""iFlytek Spark chat-over-WebSocket wire types (header / parameter / payload), per iFlytek's docs.

Frames accept unknown fields; a frame missing what we rely on is a malformed-upstream error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


# --- request -----------------------------------------------------------------------------------


class SparkHeader(_Wire):
    app_id: str
    uid: str | None = Field(default=None, max_length=32)


class SparkChatParameters(_Wire):
    domain: str
    temperature: float | None = None
    top_k: int | None = None
    max_tokens: int | None = None


class SparkParameter(_Wire):
    chat: SparkChatParameters


class SparkMessage(_Wire):
    role: Literal["system", "user", "assistant"]
    content: str


class SparkMessages(_Wire):
    text: list[SparkMessage]


class SparkFunction(_Wire):
    name: str
    description: str
    parameters: dict[str, Any]


class SparkFunctions(_Wire):
    text: list[SparkFunction]


class SparkPayload(_Wire):
    message: SparkMessages
    functions: SparkFunctions | None = None


class SparkRequest(_Wire):
    header: SparkHeader
    parameter: SparkParameter
    payload: SparkPayload

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


# --- response frames ---------------------------------------------------------------------------


class SparkFunctionCall(_Wire):
    name: str
    arguments: str = ""


class SparkTextItem(_Wire):
    content: str = ""
    role: str = "assistant"
    index: int = 0
    function_call: SparkFunctionCall | None = None


class SparkChoices(_Wire):
    status: int = 0  # 0 first, 1 middle, 2 last
    seq: int = 0
    text: list[SparkTextItem] = Field(default_factory=list)


class SparkUsageText(_Wire):
    question_tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class SparkUsage(_Wire):
    text: SparkUsageText


class SparkFramePayload(_Wire):
    choices: SparkChoices
    usage: SparkUsage | None = None


class SparkFrameHeader(_Wire):
    code: int
    message: str = ""
    sid: str = ""
    status: int = 0


class SparkFrame(_Wire):
    header: SparkFrameHeader
    payload: SparkFramePayload | None = None

    def is_last(self) -> bool:
        return self.header.status == 2 or (
            self.payload is not None and self.payload.choices.status == 2
        )
