"""`POST /v1/responses` request: OpenAI's Responses API, the part the chat pipeline can serve.

`input` is a string or a list of items: messages (with or without `type: "message"`; text,
image and, in history, `output_text` parts), `function_call` and `function_call_output`.
Items a client sends back from an earlier response that carry nothing a chat model reads
(`reasoning`, `file_search_call`, `web_search_call`) are accepted and skipped. Tools are
`function` (flat: `name`, `parameters` on the tool itself) and `file_search`, whose
`vector_store_ids` name the caller's knowledge bases.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictBool, Tag, model_validator

from .base import RequestModel
from .chat import MAX_MESSAGES, not_too_deep

# Item types a client may echo back from an earlier response; they add nothing to a prompt.
SKIPPED_ITEMS = frozenset({"reasoning", "file_search_call", "web_search_call"})


class InputText(RequestModel):
    type: Literal["input_text"]
    text: str


class OutputTextPart(RequestModel):
    """An assistant's earlier answer sent back as input (its annotations are ignored)."""

    type: Literal["output_text"]
    text: str


class Refusal(RequestModel):
    type: Literal["refusal"]
    refusal: str


class InputImage(RequestModel):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["auto", "low", "high"] | None = None

    @model_validator(mode="after")
    def _url_only(self) -> InputImage:
        if self.image_url is None:
            raise ValueError("input_image needs 'image_url' (file ids are not served here)")
        return self


class InputFile(RequestModel):
    """Accepted by the schema so the refusal can say why (see `responses/request.py`)."""

    type: Literal["input_file"]


InputContent = Annotated[
    InputText | OutputTextPart | Refusal | InputImage | InputFile, Field(discriminator="type")
]


class MessageItem(RequestModel):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[InputContent]


class FunctionCallItem(RequestModel):
    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str = ""


class FunctionCallOutputItem(RequestModel):
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: str | list[InputContent]


class SkippedItem(RequestModel):
    type: Literal["reasoning", "file_search_call", "web_search_call"]


def _item_kind(value: Any) -> str | None:
    kind = value.get("type", "message") if isinstance(value, dict) else getattr(value, "type", None)
    if kind in SKIPPED_ITEMS:
        return "skipped"
    return kind if isinstance(kind, str) else None


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[SkippedItem, Tag("skipped")],
    Discriminator(_item_kind),
]


class FunctionToolSpec(RequestModel):
    type: Literal["function"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FileSearchToolSpec(RequestModel):
    type: Literal["file_search"]
    vector_store_ids: list[str] = Field(min_length=1, max_length=32)
    max_num_results: int | None = Field(default=None, ge=1, le=50)


ResponseTool = Annotated[FunctionToolSpec | FileSearchToolSpec, Field(discriminator="type")]


class FunctionChoice(RequestModel):
    type: Literal["function"]
    name: str


class HostedToolChoice(RequestModel):
    type: Literal["file_search"]


ResponseToolChoice = Literal["none", "auto", "required"] | FunctionChoice | HostedToolChoice


class TextFormat(RequestModel):
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = Field(default=None, min_length=1, max_length=64)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_present(self) -> TextFormat:
        if self.type == "json_schema" and (self.name is None or self.schema_ is None):
            raise ValueError("text.format of type 'json_schema' needs 'name' and 'schema'")
        return self


class TextConfig(RequestModel):
    format: TextFormat | None = None


class ResponseCreateRequest(RequestModel):
    model: str = Field(min_length=1)
    input: str | list[InputItem] = Field(max_length=MAX_MESSAGES)
    instructions: str | None = None
    previous_response_id: str | None = None
    store: StrictBool = True
    stream: StrictBool = False
    background: StrictBool = False
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    tools: list[ResponseTool] | None = None
    tool_choice: ResponseToolChoice | None = None
    parallel_tool_calls: StrictBool | None = None
    text: TextConfig | None = None
    include: list[str] | None = None
    metadata: dict[str, str] | None = Field(default=None, max_length=16)
    user: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_too_deep(cls, data: Any) -> Any:
        return not_too_deep(data)

    @model_validator(mode="after")
    def _cross_field(self) -> ResponseCreateRequest:
        if self.background:
            raise ValueError("background responses are not served here; leave 'background' off")
        if isinstance(self.input, list) and not self.input and not self.previous_response_id:
            raise ValueError("'input' must not be empty")
        names = [t.name for t in self.function_tools()]
        if len(set(names)) != len(names):
            raise ValueError("function tool names must be unique")
        if isinstance(self.tool_choice, FunctionChoice) and self.tool_choice.name not in names:
            raise ValueError(f"tool_choice names '{self.tool_choice.name}', no declared function")
        return self

    def function_tools(self) -> list[FunctionToolSpec]:
        return [t for t in self.tools or [] if isinstance(t, FunctionToolSpec)]

    def vector_store_ids(self) -> list[str]:
        ids = [
            i
            for t in self.tools or []
            if isinstance(t, FileSearchToolSpec)
            for i in t.vector_store_ids
        ]
        return list(dict.fromkeys(ids))

    def input_items(self) -> list[InputItem]:
        """`input` as items (a string is one user message)."""
        if isinstance(self.input, str):
            return [MessageItem(role="user", content=self.input)]
        return list(self.input)

    def includes(self, what: str) -> bool:
        return what in (self.include or ())
