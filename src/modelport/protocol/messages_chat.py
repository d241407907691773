"""A Messages request on its way through the chat pipeline, and what an Anthropic channel
hands back for it untouched.

`MessagesChat` is the chat request the pipeline runs (admission, quota holds, routing,
retries, booking all count its translated messages), carrying the client's Messages body.
The Anthropic provider relays that body (model mapped) instead of the translation, and
returns the vendor's own answer beside the OpenAI-shaped one: `RelayedCompletion.native`,
and for a stream one `RelayedEvent` per vendor event (ahead of the chunks it makes), so
thinking signatures, `cache_control`, tool ids, stop reasons and cache usage come back
exactly as the vendor sent them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .anthropic_messages import MessagesRequest
from .chat import ChatCompletionRequest
from .chat_response import ChatCompletion, ChatCompletionChunk


class MessagesChat(ChatCompletionRequest):
    """Never sent anywhere as part of the chat request (the extra fields are excluded)."""

    anthropic: MessagesRequest = Field(exclude=True)
    anthropic_beta: str | None = Field(default=None, exclude=True)
    anthropic_version: str | None = Field(default=None, exclude=True)


class RelayedCompletion(ChatCompletion):
    native: dict[str, Any] = Field(exclude=True)


class RelayedEvent(ChatCompletionChunk):
    """One vendor stream event, as it came (no choices: it carries no output of its own)."""

    event: dict[str, Any] = Field(exclude=True)

    @classmethod
    def of(cls, event: dict[str, Any]) -> RelayedEvent:
        return cls(id="", created=0, model="", choices=[], event=event)
