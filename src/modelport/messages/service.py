"""Messages (`POST /v1/messages`), served by the chat pipeline.

A Messages request runs as a `MessagesChat` through `ChatService`, so it is admitted (key,
model allow-list, quota hold, rate limits), routed, retried and booked exactly as a chat
request is. An Anthropic channel relays the client's body and answers with the vendor's own
message or events (`providers/anthropic/relay.py`); every other channel gets the translation
(`request.py`) and its answer is translated back (`response.py`, `stream.py`).
"""

from __future__ import annotations

import asyncio

from ..chat.service import Caller, ChatService
from ..engine.prompt import PromptError
from ..protocol.anthropic_messages import CountTokensRequest, Message, MessagesInput
from ..protocol.chat import ChatCompletionRequest
from ..protocol.errors import APIError
from ..protocol.messages_chat import MessagesChat
from ..providers.budget import estimate_tokens, prompt_chars
from ..settings import ModelConfig
from .request import chat_messages, relay_only
from .response import NativeMessage, message_of
from .stream import MessagesStream

RELAY_PROVIDERS = frozenset({"anthropic"})


class MessagesService:
    def __init__(self, chat: ChatService) -> None:
        self.chat = chat

    def served_locally(self, model_name: str) -> bool:
        return self.chat.served_locally(model_name)

    def check(self, body: MessagesInput) -> ModelConfig:
        """The model, or the refusal of what its channels cannot carry (before admission: no
        hold, no row, as for any other invalid request)."""
        model = self.chat.catalogue.resolve(body.model)
        problem = relay_only(body)
        vendors = sorted({c.provider for c in model.channels} - RELAY_PROVIDERS)
        if problem is not None and vendors:
            raise APIError(
                400,
                f"The model `{model.name}` is served by {', '.join(vendors)}, which cannot "
                f"take {problem}; only Anthropic channels relay them.",
                code="unsupported_content",
            )
        return model

    async def complete(self, request: MessagesChat, caller: Caller) -> Message | NativeMessage:
        model = self.check(request.anthropic)
        answer = await self.chat.complete(request, caller)
        return message_of(answer, model.name)

    async def open_stream(self, request: MessagesChat, caller: Caller) -> MessagesStream:
        self.check(request.anthropic)
        stream = await self.chat.open_stream(request, caller, stream_type=MessagesStream)
        assert isinstance(stream, MessagesStream)
        return stream

    async def count_tokens(self, body: CountTokensRequest) -> int:
        """The prompt's tokens: exact on the embedded engine (its chat template, tokenized),
        else the pipeline's estimate (about four characters a token, tool schemas included)."""
        model = self.check(body)
        messages = chat_messages(body) or [{"role": "user", "content": ""}]
        chat = ChatCompletionRequest.model_validate({"model": body.model, "messages": messages})
        local = next((c for c in model.channels if c.provider == "local"), None)
        if local is not None:
            # Imported here: the engine's modules load llama.cpp and numpy, which a server
            # without a local model never needs (the registry loads providers on use too).
            from ..providers.local.convert import template_messages
            from ..providers.local.provider import LocalProvider

            provider = self.chat.providers.get("local")
            if isinstance(provider, LocalProvider):
                async with provider.lease(local) as engine:  # loaded if need be, kept meanwhile
                    try:
                        tokens = await asyncio.to_thread(engine.render, template_messages(chat))
                    except PromptError as exc:
                        raise APIError(400, str(exc), param="messages") from exc
                return len(tokens)
        schemas = sum(len(str(t.model_dump(exclude_none=True))) for t in body.tools or [])
        return estimate_tokens(prompt_chars(chat) + schemas)
