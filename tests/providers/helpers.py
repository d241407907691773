"""Small helpers shared by the adapter tests: requests, stream collection, reassembly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from modelport.protocol.chat import ChatCompletionRequest
from modelport.protocol.chat_response import ChatCompletionChunk
from modelport.providers.stream import Batch, StreamEnd

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "unit": {"type": "string"}},
            "required": ["query"],
        },
    },
}


def chat(text: str, **fields: Any) -> ChatCompletionRequest:
    body: dict[str, Any] = {
        "model": "public-model",
        "messages": [{"role": "user", "content": text}],
    }
    body.update(fields)
    return ChatCompletionRequest.model_validate(body)


async def collect(stream: AsyncIterator[Batch]) -> list[ChatCompletionChunk]:
    """The chunks of a provider stream (its closing `StreamEnd` checked, then left out)."""
    chunks, _ = await collect_with_end(stream)
    return chunks


async def collect_with_end(
    stream: AsyncIterator[Batch],
) -> tuple[list[ChatCompletionChunk], StreamEnd]:
    """The chunks of a provider stream and the `StreamEnd` it must close with (exactly one,
    last). Batches are never empty."""
    batches = [batch async for batch in stream]
    assert all(batches), "an empty batch"
    items = [item for batch in batches for item in batch]
    assert items and isinstance(items[-1], StreamEnd), items[-1:]
    chunks = [item for item in items[:-1] if isinstance(item, ChatCompletionChunk)]
    assert len(chunks) == len(items) - 1, "a StreamEnd before the end"
    return chunks, items[-1]


def streamed_text(chunks: list[ChatCompletionChunk], index: int = 0) -> str:
    return "".join(
        c.delta.content or "" for chunk in chunks for c in chunk.choices if c.index == index
    )


def streamed_tool_calls(chunks: list[ChatCompletionChunk]) -> dict[int, dict[str, str]]:
    """Tool-call deltas reassembled per call index the way OpenAI clients do it."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] = delta.id or call["id"]
                if delta.function is not None:
                    call["name"] += delta.function.name or ""
                    call["arguments"] += delta.function.arguments or ""
    return calls


def streamed_function_call(chunks: list[ChatCompletionChunk]) -> dict[str, Any]:
    name, arguments = "", ""
    for chunk in chunks:
        for choice in chunk.choices:
            call = choice.delta.function_call
            if call is not None:
                name += call.name or ""
                arguments += call.arguments or ""
    return {"name": name, "arguments": json.loads(arguments)}


def finish_reasons(chunks: list[ChatCompletionChunk]) -> list[str]:
    return [c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason]
