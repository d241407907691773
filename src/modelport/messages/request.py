"""A Messages request → the chat request the pipeline runs (`MessagesChat`).

Every channel but Anthropic's gets this translation: one leading system message (the
top-level `system` and any `role: "system"` messages, in order: some OpenAI-compatible
servers refuse a system message anywhere but first), `tool_result` blocks as `tool`
messages ahead of the user's other content, `tool_use` blocks as `tool_calls`, images as
image parts, text documents as text. Thinking blocks are dropped (no OpenAI-shaped upstream
takes a previous turn's reasoning back), as are empty text blocks and `cache_control`.
What cannot be translated without changing the request's meaning (PDF and file documents,
server tools, block types this gateway does not know, more than four stop sequences) is
named by `relay_only`, and refused for a model that has any channel but Anthropic's.
"""

from __future__ import annotations

import json
from typing import Any

from ..protocol.anthropic_messages import (
    Base64Source,
    ContentBlock,
    ContentSource,
    DocumentBlock,
    FileSource,
    ImageBlock,
    InputMessage,
    MessagesInput,
    MessagesRequest,
    OtherBlock,
    PlainTextSource,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from ..protocol.messages_chat import MessagesChat

Json = dict[str, Any]
MAX_STOPS = 4  # the chat request's own bound


def _image_url(block: ImageBlock) -> str | None:
    source = block.source
    if isinstance(source, Base64Source):
        return f"data:{source.media_type};base64,{source.data}"
    if isinstance(source, FileSource):
        return None
    return source.url


def _document_text(block: DocumentBlock) -> str | None:
    source = block.source
    if isinstance(source, PlainTextSource):
        text = source.data
    elif isinstance(source, ContentSource):
        if isinstance(source.content, str):
            text = source.content
        else:
            text = "\n".join(b.text for b in source.content if isinstance(b, TextBlock))
    else:
        return None  # a PDF or a file: only an Anthropic channel reads it
    return f"{block.title}\n\n{text}" if block.title else text


def _block_problem(block: ContentBlock) -> str | None:
    if isinstance(block, OtherBlock):
        return f"content blocks of type '{block.type}'"
    if isinstance(block, DocumentBlock) and _document_text(block) is None:
        return f"documents with a '{block.source.type}' source"
    if isinstance(block, ImageBlock) and _image_url(block) is None:
        return "images with a 'file' source"
    if isinstance(block, ToolResultBlock) and isinstance(block.content, list):
        for inner in block.content:
            problem = _block_problem(inner)
            if problem is not None:
                return problem
    return None


def relay_only(body: MessagesInput) -> str | None:
    """What in `body` only an Anthropic channel can carry (None: everything translates)."""
    for tool in body.tools or []:
        if not tool.is_client_tool():
            return f"server tools (type '{tool.type}')"
    if isinstance(body, MessagesRequest) and len(body.stop_sequences or []) > MAX_STOPS:
        return f"more than {MAX_STOPS} stop_sequences"
    for message in body.messages:
        for block in message.blocks():
            problem = _block_problem(block)
            if problem is not None:
                return problem
    return None


def _text_of(content: str | list[Any] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for block in content:
        if isinstance(block, TextBlock):
            parts.append(block.text)
        elif isinstance(block, DocumentBlock):
            parts.append(_document_text(block) or "")
    return "\n".join(p for p in parts if p)


def _user_turn(message: InputMessage) -> list[Json]:
    """Tool results first (each a `tool` message), then the user's own content."""
    out: list[Json] = []
    parts: list[Json] = []
    for block in message.blocks():
        if isinstance(block, ToolResultBlock):
            text = _text_of(block.content)
            if block.is_error:
                text = f"Error: {text}" if text else "Error"
            out.append({"role": "tool", "tool_call_id": block.tool_use_id, "content": text})
        elif isinstance(block, TextBlock) and block.text:
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock) and (url := _image_url(block)):
            parts.append({"type": "image_url", "image_url": {"url": url}})
        elif isinstance(block, DocumentBlock) and (document := _document_text(block)):
            parts.append({"type": "text", "text": document})
    if parts and all(p["type"] == "text" for p in parts):
        out.append({"role": "user", "content": "\n".join(p["text"] for p in parts)})
    elif parts:
        out.append({"role": "user", "content": parts})
    return out


def _assistant_turn(message: InputMessage) -> list[Json]:
    texts = [b.text for b in message.blocks() if isinstance(b, TextBlock) and b.text]
    calls = [
        {
            "id": b.id,
            "type": "function",
            "function": {"name": b.name, "arguments": json.dumps(b.input, ensure_ascii=False)},
        }
        for b in message.blocks()
        if isinstance(b, ToolUseBlock)
    ]
    if not texts and not calls:
        return []  # thinking only, or nothing: no turn an OpenAI-shaped model reads
    turn: Json = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        turn["tool_calls"] = calls
    return [turn]


def chat_messages(body: MessagesInput) -> list[Json]:
    system: list[str] = []
    if isinstance(body.system, str):
        system.append(body.system)
    elif body.system:
        system += [b.text for b in body.system]
    turns: list[Json] = []
    for message in body.messages:
        if message.role in ("system", "developer"):
            blocks = message.blocks()
            system.append("\n".join(b.text for b in blocks if isinstance(b, TextBlock)))
        elif message.role == "user":
            turns += _user_turn(message)
        else:
            turns += _assistant_turn(message)
    text = "\n\n".join(s for s in system if s)
    return ([{"role": "system", "content": text}] if text else []) + turns


def _tools(body: MessagesInput) -> Json:
    tools = [t for t in body.tools or [] if t.is_client_tool()]
    if not tools:
        return {}
    fields: Json = {
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    **({"description": t.description} if t.description else {}),
                    "parameters": t.input_schema,
                },
            }
            for t in tools
        ]
    }
    choice = body.tool_choice
    if choice is not None:
        if choice.type == "tool":
            fields["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
        else:
            fields["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[choice.type]
        if choice.disable_parallel_tool_use:
            fields["parallel_tool_calls"] = False
    return fields


def to_chat(
    body: MessagesRequest, *, beta: str | None = None, version: str | None = None
) -> MessagesChat:
    """The chat request for `body` (validated by the chat request's own rules)."""
    messages = chat_messages(body) or [{"role": "user", "content": ""}]
    fields: Json = {
        "model": body.model,
        "messages": messages,
        "max_tokens": body.max_tokens,
        "stream": body.stream,
        **_tools(body),
    }
    optional = {
        "temperature": body.temperature,
        "top_p": body.top_p,
        "top_k": body.top_k,
        "stop": (body.stop_sequences or [])[:MAX_STOPS] or None,
        "user": body.metadata.user_id if body.metadata else None,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    return MessagesChat.model_validate(
        {**fields, "anthropic": body, "anthropic_beta": beta, "anthropic_version": version}
    )
