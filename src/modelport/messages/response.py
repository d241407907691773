"""A chat answer → the Messages answer (`message` object).

An Anthropic channel's answer is the vendor's own message with only `model` set to the
public name. Any other channel's is built: the reasoning (where the upstream sends one) as
a `thinking` block first, the text as a `text` block only when there is text (an empty text
block beside thinking or tool calls is what Anthropic refuses when the client sends the turn
back), each tool call as a `tool_use` block with its arguments as `input`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import RootModel

from ..protocol.anthropic_messages import (
    Message,
    MessageUsage,
    OutputBlock,
    StopReason,
    TextOut,
    ThinkingOut,
    ToolUseOut,
)
from ..protocol.chat_response import ChatCompletion, FinishReason, Usage
from ..protocol.messages_chat import RelayedCompletion

STOP_REASONS: dict[str, StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


class NativeMessage(RootModel[dict[str, Any]]):
    """A vendor's message, sent on as it came."""


def stop_reason_of(finish: FinishReason | None) -> StopReason:
    return STOP_REASONS.get(finish or "stop", "end_turn")


def tool_input(arguments: str) -> dict[str, Any]:
    """A call's arguments as the object Anthropic's `input` is (a model's broken JSON is kept
    whole under `arguments` rather than lost)."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"arguments": value}


def usage_of(usage: Usage) -> MessageUsage:
    return MessageUsage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens)


def message_of(answer: ChatCompletion, model: str) -> Message | NativeMessage:
    if isinstance(answer, RelayedCompletion):
        return NativeMessage({**answer.native, "model": model})
    blocks: list[OutputBlock] = []
    finish: FinishReason | None = None
    if answer.choices:
        choice = answer.choices[0]
        finish, message = choice.finish_reason, choice.message
        if message.reasoning_content:
            blocks.append(ThinkingOut(thinking=message.reasoning_content))
        if message.content:
            blocks.append(TextOut(text=message.content))
        for call in message.tool_calls or []:
            arguments = tool_input(call.function.arguments)
            blocks.append(ToolUseOut(id=call.id, name=call.function.name, input=arguments))
    return Message(
        model=model,
        content=blocks,
        stop_reason=stop_reason_of(finish),
        usage=usage_of(answer.usage),
    )
