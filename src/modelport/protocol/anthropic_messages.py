"""`POST /v1/messages` (Anthropic's Messages API): the request, the answer and the errors.

Request-side models accept unknown fields (a newer client's, relayed as sent to an Anthropic
channel) and unknown content block types (`server_tool_use`, `search_result`, ...: only an
Anthropic channel can carry them). `role: "system"` inside `messages` is accepted: newer
Claude Code versions send mid-conversation system instructions that way.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictBool, Tag, model_validator

from .base import RequestModel, WireModel
from .chat import MAX_MESSAGES, not_too_deep
from .ids import alnum_id

# --- request: content blocks ----------------------------------------------------------------


class CacheControl(RequestModel):
    type: str = "ephemeral"
    ttl: str | None = None


class TextBlock(RequestModel):
    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None


class Base64Source(RequestModel):
    type: Literal["base64"]
    media_type: str
    data: str


class URLSource(RequestModel):
    type: Literal["url"]
    url: str


class FileSource(RequestModel):
    type: Literal["file"]
    file_id: str


class PlainTextSource(RequestModel):
    type: Literal["text"]
    media_type: str = "text/plain"
    data: str


class ImageBlock(RequestModel):
    type: Literal["image"]
    source: Annotated[Base64Source | URLSource | FileSource, Field(discriminator="type")]
    cache_control: CacheControl | None = None


class ContentSource(RequestModel):
    type: Literal["content"]
    content: str | list[TextBlock | ImageBlock]


DocumentSource = Annotated[
    Base64Source | URLSource | FileSource | PlainTextSource | ContentSource,
    Field(discriminator="type"),
]


class DocumentBlock(RequestModel):
    type: Literal["document"]
    source: DocumentSource
    title: str | None = None
    context: str | None = None
    cache_control: CacheControl | None = None


class ToolUseBlock(RequestModel):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    cache_control: CacheControl | None = None


class ToolResultBlock(RequestModel):
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[TextBlock | ImageBlock | DocumentBlock] | None = None
    is_error: StrictBool | None = None
    cache_control: CacheControl | None = None


class ThinkingBlock(RequestModel):
    type: Literal["thinking"]
    thinking: str
    signature: str = ""


class RedactedThinkingBlock(RequestModel):
    type: Literal["redacted_thinking"]
    data: str


class OtherBlock(RequestModel):
    """A block type this gateway does not translate (relayed to an Anthropic channel only)."""

    type: str


_KNOWN_BLOCKS = frozenset(
    {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"}
)


def _block_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _KNOWN_BLOCKS else "other"


ContentBlock = Annotated[
    Annotated[TextBlock, Tag("text")]
    | Annotated[ImageBlock, Tag("image")]
    | Annotated[DocumentBlock, Tag("document")]
    | Annotated[ToolUseBlock, Tag("tool_use")]
    | Annotated[ToolResultBlock, Tag("tool_result")]
    | Annotated[ThinkingBlock, Tag("thinking")]
    | Annotated[RedactedThinkingBlock, Tag("redacted_thinking")]
    | Annotated[OtherBlock, Tag("other")],
    Discriminator(_block_kind),
]


class InputMessage(RequestModel):
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[ContentBlock]

    def blocks(self) -> list[ContentBlock]:
        if isinstance(self.content, str):
            return [TextBlock(type="text", text=self.content)]
        return list(self.content)


# --- request: tools, options, the body ------------------------------------------------------


class ToolDefinition(RequestModel):
    """A client tool (`input_schema`), or a server tool (`type` such as
    `web_search_20250305`), which only an Anthropic channel runs."""

    name: str = Field(min_length=1, max_length=128)
    type: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    cache_control: CacheControl | None = None

    def is_client_tool(self) -> bool:
        return self.type in (None, "custom")

    @model_validator(mode="after")
    def _schema_for_client_tools(self) -> ToolDefinition:
        if self.is_client_tool() and self.input_schema is None:
            raise ValueError(f"tool '{self.name}' needs 'input_schema'")
        return self


class ToolChoice(RequestModel):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: StrictBool | None = None

    @model_validator(mode="after")
    def _name_for_tool(self) -> ToolChoice:
        if self.type == "tool" and not self.name:
            raise ValueError("tool_choice of type 'tool' needs 'name'")
        return self


class ThinkingConfig(RequestModel):
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = Field(default=None, ge=1)


class Metadata(RequestModel):
    user_id: str | None = None


class MessagesInput(RequestModel):
    """What `/v1/messages` and `/v1/messages/count_tokens` share."""

    model: str = Field(min_length=1)
    messages: list[InputMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    system: str | list[TextBlock] | None = None
    tools: list[ToolDefinition] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_too_deep(cls, data: Any) -> Any:
        return not_too_deep(data)

    @model_validator(mode="after")
    def _tool_choice_names_a_tool(self) -> MessagesInput:
        names = {tool.name for tool in self.tools or []}
        choice = self.tool_choice
        if choice is not None and choice.type == "tool" and choice.name not in names:
            raise ValueError(f"tool_choice names '{choice.name}', which is not among the tools")
        if choice is not None and choice.type in ("any", "tool") and not names:
            raise ValueError("tool_choice may only be specified while providing tools")
        return self


class MessagesRequest(MessagesInput):
    max_tokens: int = Field(ge=1)
    stop_sequences: list[str] | None = None
    stream: StrictBool = False
    temperature: float | None = Field(default=None, ge=0.0, le=1.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    metadata: Metadata | None = None


class CountTokensRequest(MessagesInput):
    pass


# --- the answer -------------------------------------------------------------------------------

StopReason = Literal["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"]


def message_id() -> str:
    return "msg_" + alnum_id(24)


class TextOut(WireModel):
    type: Literal["text"] = "text"
    text: str


class ThinkingOut(WireModel):
    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str = ""


class ToolUseOut(WireModel):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]


OutputBlock = ThinkingOut | TextOut | ToolUseOut


class MessageUsage(WireModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


class Message(WireModel):
    id: str = Field(default_factory=message_id)
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str
    content: list[OutputBlock]
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None
    usage: MessageUsage


class CountTokensResponse(WireModel):
    input_tokens: int


ErrorType = Literal[
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
]


class ErrorDetail(WireModel):
    type: ErrorType
    message: str


class ErrorEnvelope(WireModel):
    type: Literal["error"] = "error"
    error: ErrorDetail
