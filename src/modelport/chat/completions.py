"""Legacy text completions (`POST /v1/completions`), served by the chat pipeline.

A completion runs as a `PromptedChat` through `ChatService`, so it is admitted (key, model
allow-list, quota hold, rate limits), routed, retried and booked exactly as a chat request
is; only the answer's shape differs. The local engine and OpenAI-compatible upstreams serve
the prompt raw. Other vendors have no text completions API: a model with a channel on one is
refused with a 400 naming the vendor, rather than wrapping the prompt as a user message: a
chat model answers a message, it does not continue a text, and a client of this endpoint
asks for the continuation (a chat answer in its place would be wrong without saying so).
"""

from __future__ import annotations

import time

from ..protocol.chat_response import ChatCompletion, ChatCompletionChunk, FinishReason
from ..protocol.completions import (
    CompletionRequest,
    PromptedChat,
    TextChoice,
    TextCompletion,
    TextFinishReason,
    text_completion_id,
)
from ..protocol.errors import APIError
from .service import Caller, ChatService
from .stream import ChatStream

# The providers that serve a raw prompt (see `PromptedChat`).
TEXT_PROVIDERS = frozenset({"local", "openai_compat"})


def _reason(reason: FinishReason | None) -> TextFinishReason | None:
    if reason is None or reason in ("stop", "length", "content_filter"):
        return reason
    return "stop"  # tool calls cannot happen without tools


class _Echo:
    """The prompt put before each choice's first text when `echo` is asked for."""

    def __init__(self, completion: CompletionRequest) -> None:
        self._completion = completion
        self._done: set[int] = set()

    def __call__(self, index: int, text: str) -> str:
        if not self._completion.echo or index in self._done:
            return text
        self._done.add(index)
        return self._completion.prompt_of(index) + text


class _ChunkShape:
    """Chat chunks → `text_completion` events (one id for the stream, as OpenAI's)."""

    def __init__(self, completion: CompletionRequest) -> None:
        self._echo = _Echo(completion)
        self._id = text_completion_id()

    def __call__(self, chunk: ChatCompletionChunk) -> TextCompletion | None:
        choices = []
        for choice in chunk.choices:
            text = self._echo(choice.index, choice.delta.content or "")
            if text or choice.finish_reason:
                reason = _reason(choice.finish_reason)
                choices.append(TextChoice(text=text, index=choice.index, finish_reason=reason))
        if not choices and (chunk.choices or chunk.usage is None):
            return None  # a role-only opening chunk: nothing a text client reads
        return TextCompletion(
            id=self._id,
            created=chunk.created,
            model=chunk.model,
            choices=choices,
            usage=chunk.usage,
        )


def text_completion(answer: ChatCompletion, completion: CompletionRequest) -> TextCompletion:
    echo = _Echo(completion)
    choices = [
        TextChoice(
            text=echo(choice.index, choice.message.content or ""),
            index=choice.index,
            finish_reason=_reason(choice.finish_reason) or "stop",
        )
        for choice in answer.choices
    ]
    return TextCompletion(
        created=answer.created or int(time.time()),
        model=answer.model,
        choices=choices,
        usage=answer.usage,
    )


class CompletionService:
    def __init__(self, chat: ChatService) -> None:
        self.chat = chat

    def served_locally(self, model_name: str) -> bool:
        return self.chat.served_locally(model_name)

    def _check(self, request: PromptedChat) -> None:
        """Refuse a model some of whose channels cannot take a raw prompt (before admission:
        no hold, no row, as for any other invalid request)."""
        model = self.chat.catalogue.resolve(request.model)
        vendors = sorted({c.provider for c in model.channels} - TEXT_PROVIDERS)
        if vendors:
            raise APIError(
                400,
                f"The model `{model.name}` is served by {', '.join(vendors)}, which has no "
                "text completions API; use /v1/chat/completions for it.",
                param="model",
                code="unsupported_model",
            )

    async def complete(self, request: PromptedChat, caller: Caller) -> TextCompletion:
        self._check(request)
        answer = await self.chat.complete(request, caller)
        return text_completion(answer, request.completion)

    async def open_stream(self, request: PromptedChat, caller: Caller) -> ChatStream:
        self._check(request)
        return await self.chat.open_stream(request, caller, shape=_ChunkShape(request.completion))
