"""The Responses API's objects: a `response`, its output items, and the streamed events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import WireModel
from .chat_response import KnowledgeBaseCites, optional
from .ids import hex_id

ResponseStatus = Literal["in_progress", "completed", "incomplete", "failed"]
ItemStatus = Literal["in_progress", "completed", "incomplete"]


def response_id() -> str:
    return "resp_" + hex_id(24)


def message_id() -> str:
    return "msg_" + hex_id(24)


def function_call_id() -> str:
    return "fc_" + hex_id(24)


def file_search_id() -> str:
    return "fs_" + hex_id(24)


class FileCitation(WireModel):
    type: Literal["file_citation"] = "file_citation"
    file_id: str
    filename: str
    index: int  # where in the text the cited passage is used (after its [n], else the end)


class OutputText(WireModel):
    type: Literal["output_text"] = "output_text"
    text: str = ""
    annotations: list[FileCitation] = Field(default_factory=list)
    logprobs: list[Any] = Field(default_factory=list)


class OutputMessage(WireModel):
    type: Literal["message"] = "message"
    id: str = Field(default_factory=message_id)
    status: ItemStatus = "in_progress"
    role: Literal["assistant"] = "assistant"
    content: list[OutputText] = Field(default_factory=list)


class FunctionCallOutput(WireModel):
    """A `function_call` output item (the model asks the client to run a function)."""

    type: Literal["function_call"] = "function_call"
    id: str = Field(default_factory=function_call_id)
    call_id: str
    name: str
    arguments: str = ""
    status: ItemStatus = "in_progress"


class FileSearchResult(WireModel):
    file_id: str | None = None
    filename: str
    score: float | None = None
    text: str
    attributes: dict[str, str | float | bool] = Field(default_factory=dict)


class FileSearchCall(WireModel):
    type: Literal["file_search_call"] = "file_search_call"
    id: str = Field(default_factory=file_search_id)
    status: Literal["in_progress", "searching", "completed", "incomplete", "failed"] = "in_progress"
    queries: list[str] = Field(default_factory=list)
    results: list[FileSearchResult] | None = None


OutputItem = OutputMessage | FunctionCallOutput | FileSearchCall


class InputTokensDetails(WireModel):
    cached_tokens: int = 0


class OutputTokensDetails(WireModel):
    reasoning_tokens: int = 0


class ResponseUsage(WireModel):
    input_tokens: int
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int


class ResponseError(WireModel):
    code: str
    message: str


class IncompleteDetails(WireModel):
    reason: Literal["max_output_tokens", "content_filter"]


class Reasoning(WireModel):
    effort: str | None = None
    summary: str | None = None


class ResponseObject(WireModel):
    id: str = Field(default_factory=response_id)
    object: Literal["response"] = "response"
    created_at: int
    completed_at: int | None = None
    status: ResponseStatus = "in_progress"
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str
    output: list[OutputItem] = Field(default_factory=list)
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    reasoning: Reasoning = Field(default_factory=Reasoning)
    store: bool = True
    temperature: float | None = None
    text: dict[str, Any] = Field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: Any = "auto"
    tools: list[dict[str, Any]] = Field(default_factory=list)
    top_p: float | None = None
    truncation: Literal["disabled"] = "disabled"
    usage: ResponseUsage | None = None
    user: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    # Baichuan's cites, as on a chat completion, for a client that wants more than annotations
    knowledge_base: KnowledgeBaseCites | None = optional()

    def output_text(self) -> str:
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, OutputMessage)
            for part in item.content
        )


class DeletedResponse(WireModel):
    id: str
    object: Literal["response"] = "response"
    deleted: bool = True


# --- streamed events (`event: <type>` + `data: <one of these>`) ---------------------------


class ResponseEvent(WireModel):
    """`response.created`, `.in_progress`, `.completed`, `.incomplete`, `.failed`."""

    type: str
    sequence_number: int
    response: ResponseObject


class OutputItemEvent(WireModel):
    """`response.output_item.added` and `.done`."""

    type: str
    sequence_number: int
    output_index: int
    item: OutputItem


class ContentPartEvent(WireModel):
    """`response.content_part.added` and `.done`."""

    type: str
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    part: OutputText


class TextDeltaEvent(WireModel):
    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    delta: str
    logprobs: list[Any] = Field(default_factory=list)


class TextDoneEvent(WireModel):
    type: Literal["response.output_text.done"] = "response.output_text.done"
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    text: str
    logprobs: list[Any] = Field(default_factory=list)


class AnnotationAddedEvent(WireModel):
    type: Literal["response.output_text.annotation.added"] = "response.output_text.annotation.added"
    sequence_number: int
    item_id: str
    output_index: int
    content_index: int
    annotation_index: int
    annotation: FileCitation


class ArgumentsDeltaEvent(WireModel):
    type: Literal["response.function_call_arguments.delta"] = (
        "response.function_call_arguments.delta"
    )
    sequence_number: int
    item_id: str
    output_index: int
    delta: str


class ArgumentsDoneEvent(WireModel):
    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"
    sequence_number: int
    item_id: str
    output_index: int
    name: str
    arguments: str


class FileSearchEvent(WireModel):
    """`response.file_search_call.in_progress`, `.searching` and `.completed`."""

    type: str
    sequence_number: int
    item_id: str
    output_index: int


class ErrorEvent(WireModel):
    type: Literal["error"] = "error"
    sequence_number: int
    code: str | None = None
    message: str
    param: str | None = None
