"""A Responses request as the chat pipeline runs it.

`instructions` become the leading system message (only this request's: OpenAI does not carry
an earlier response's instructions over), then the stored conversation of
`previous_response_id`, then `input`: messages as messages, consecutive `function_call` items
as one assistant message's `tool_calls` (joined to the assistant text before them),
`function_call_output` as `tool` messages. Function tools become chat tools, `file_search`
the caller's knowledge bases (`vector_store_ids` are knowledge-base ids), `text.format` the
`response_format`, `max_output_tokens` the `max_tokens`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..protocol.chat import ChatCompletionRequest
from ..protocol.errors import APIError, invalid_request
from ..protocol.responses import (
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionChoice,
    InputContent,
    InputFile,
    InputImage,
    InputItem,
    MessageItem,
    Refusal,
    ResponseCreateRequest,
    TextFormat,
)

ITEMS: TypeAdapter[list[InputItem]] = TypeAdapter(list[InputItem])


def dump_items(items: Sequence[InputItem]) -> list[dict[str, Any]]:
    """Items as JSON-ready dicts, for storage (what the client sent, ids included)."""
    return [i.model_dump(mode="json", by_alias=True, exclude_none=True) for i in items]


def _parts(content: str | list[InputContent], *, images: bool) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, InputFile):
            raise invalid_request(
                "input_file parts are not served here: add the file to a knowledge base and "
                "name it in a file_search tool's vector_store_ids.",
                param="input",
                code="unsupported_content",
            )
        if isinstance(part, InputImage):
            if not images:
                raise invalid_request("function outputs take text only", param="input")
            parts.append({"type": "image_url", "image_url": {"url": part.image_url}})
            if part.detail is not None:
                parts[-1]["image_url"]["detail"] = part.detail
            continue
        text = part.refusal if isinstance(part, Refusal) else part.text
        texts.append(text)
        parts.append({"type": "text", "text": text})
    if all(p["type"] == "text" for p in parts):
        return "\n".join(texts)
    return parts


def messages_of(instructions: str | None, items: Sequence[InputItem]) -> list[dict[str, Any]]:
    """The chat messages for `items` (see the module's docstring)."""
    messages: list[dict[str, Any]] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    for item in items:
        if isinstance(item, MessageItem):
            messages.append({"role": item.role, "content": _parts(item.content, images=True)})
        elif isinstance(item, FunctionCallItem):
            call = {
                "id": item.call_id,
                "type": "function",
                "function": {"name": item.name, "arguments": item.arguments},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif isinstance(item, FunctionCallOutputItem):
            content = _parts(item.output, images=False)
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": content})
    return messages


def _response_format(text_format: TextFormat | None) -> dict[str, Any] | None:
    if text_format is None or text_format.type == "text":
        return None
    if text_format.type == "json_object":
        return {"type": "json_object"}
    schema: dict[str, Any] = {"name": text_format.name, "schema": text_format.schema_}
    if text_format.description is not None:
        schema["description"] = text_format.description
    if text_format.strict is not None:
        schema["strict"] = text_format.strict
    return {"type": "json_schema", "json_schema": schema}


def _tool_choice(request: ResponseCreateRequest) -> Any:
    choice = request.tool_choice
    if choice is None or not request.function_tools():
        return None  # `file_search` runs whenever it is declared: nothing to choose
    if isinstance(choice, FunctionChoice):
        return {"type": "function", "function": {"name": choice.name}}
    return choice if isinstance(choice, str) else "auto"


def to_chat(request: ResponseCreateRequest, history: Sequence[InputItem]) -> ChatCompletionRequest:
    """The chat request for a Responses request after `history` (the stored conversation of
    its `previous_response_id`), or the 400 it gets."""
    messages = messages_of(request.instructions, [*history, *request.input_items()])
    if not any(m["role"] != "system" for m in messages):
        raise invalid_request("'input' has no message or function output to answer", "input")
    tools = [
        {
            "type": "function",
            "function": t.model_dump(exclude={"type"}, exclude_none=True, by_alias=True),
        }
        for t in request.function_tools()
    ]
    data: dict[str, Any] = {
        "model": request.model,
        "messages": messages,
        "stream": request.stream,
        "max_tokens": request.max_output_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "user": request.user,
        "tools": tools or None,
        "tool_choice": _tool_choice(request),
        "parallel_tool_calls": request.parallel_tool_calls if tools else None,
        "response_format": _response_format(request.text.format if request.text else None),
    }
    if request.vector_store_ids():
        # Markers on: annotations are placed where the answer cites a passage ([n]).
        data["knowledge_base"] = {"ids": request.vector_store_ids(), "citation_markers": True}
    try:
        return ChatCompletionRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
        raise APIError(400, message, code="invalid_value") from None
