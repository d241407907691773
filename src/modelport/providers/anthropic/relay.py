"""A `/v1/messages` request relayed to an Anthropic channel as the client sent it.

The body goes out as the client wrote it (unknown fields, `cache_control`, thinking blocks
with their signatures, server tools), with two changes only: the channel's model name, and
`role: "system"` messages (newer Claude Code sends them inside `messages`) moved into the
top-level `system`, where every Anthropic endpoint takes them; turns left adjacent with the
same role are joined, as Anthropic itself does. The vendor's answer comes back beside the
OpenAI-shaped one the pipeline books (`protocol/messages_chat.py`).
"""

from __future__ import annotations

from typing import Any

from ...protocol.chat_response import ChatCompletion, ChatCompletionChunk
from ...protocol.messages_chat import MessagesChat, RelayedCompletion, RelayedEvent
from ...settings import ChannelConfig
from .adapter import ClaudeStreamReader
from .convert import claude_to_openai, upstream_model

Block = dict[str, Any]


def _blocks(content: Any) -> list[Block]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _system_moved(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with system-role messages moved into `system` (blocks keep `cache_control`)."""
    messages = body.get("messages") or []
    if not any(m.get("role") in ("system", "developer") for m in messages):
        return body
    system = body.get("system")
    blocks = _blocks(system) if system else []
    turns: list[Block] = []
    for message in messages:
        if message.get("role") in ("system", "developer"):
            blocks += [b for b in _blocks(message["content"]) if b.get("type") == "text"]
            continue
        if turns and turns[-1]["role"] == message["role"]:
            turns[-1]["content"] = _blocks(turns[-1]["content"]) + _blocks(message["content"])
        else:
            turns.append(dict(message))
    return {**body, "system": blocks, "messages": turns}


def relay_body(request: MessagesChat, channel: ChannelConfig, *, stream: bool) -> dict[str, Any]:
    body = request.anthropic.model_dump(mode="json", exclude_unset=True, by_alias=True)
    body = _system_moved(body)
    body["model"] = upstream_model(request, channel)
    body["stream"] = stream
    return body


def relay_headers(request: MessagesChat, default_version: str) -> dict[str, str]:
    headers = {"anthropic-version": request.anthropic_version or default_version}
    if request.anthropic_beta:
        headers["anthropic-beta"] = request.anthropic_beta
    return headers


def relayed_completion(data: dict[str, Any], request: MessagesChat) -> ChatCompletion:
    completion = claude_to_openai(data, request)
    return RelayedCompletion(**dict(completion), native=data)


class RelayStreamReader(ClaudeStreamReader):
    """The chunks the pipeline counts and books, each event's own `RelayedEvent` first."""

    def _chunks(self, event: dict[str, Any]) -> list[ChatCompletionChunk]:
        chunks = super()._chunks(event)
        return [RelayedEvent.of(event), *chunks]
