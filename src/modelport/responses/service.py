"""The Responses API on the chat pipeline: translate, run through `ChatService` (admission,
quota holds, routing, retries, booking as for chat), answer as a `response`, store it.

A stored response keeps its whole input (the stored conversation before it, then its own
items) and the response object; `store: false` stores nothing, so such a response can be
neither retrieved nor continued.
"""

from __future__ import annotations

from typing import Any

from ..chat.service import Caller, ChatService
from ..protocol.chat import ChatCompletionRequest
from ..protocol.response_objects import ResponseObject
from ..protocol.responses import ResponseCreateRequest
from .request import dump_items, to_chat
from .response import answered, shell
from .store import ResponseStore
from .stream import EventShape, ResponseStream


class ResponseService:
    def __init__(self, chat: ChatService, store: ResponseStore) -> None:
        self.chat = chat
        self.store = store

    def served_locally(self, model_name: str) -> bool:
        return self.chat.served_locally(model_name)

    async def _prepare(
        self, request: ResponseCreateRequest, caller: Caller
    ) -> tuple[ChatCompletionRequest, list[dict[str, Any]]]:
        """The chat request, and the input the stored response will keep."""
        history = []
        if request.previous_response_id:
            history = await self.store.history(caller.owner, request.previous_response_id)
        chat = to_chat(request, history)
        return chat, dump_items([*history, *request.input_items()])

    async def create(self, request: ResponseCreateRequest, caller: Caller) -> ResponseObject:
        chat, items = await self._prepare(request, caller)
        completion = await self.chat.complete(chat, caller)
        response = answered(request, chat, completion)
        if request.store:
            await self.store.save(caller.owner, items, response)
        return response

    async def open_stream(self, request: ResponseCreateRequest, caller: Caller) -> ResponseStream:
        chat, items = await self._prepare(request, caller)
        public = self.chat.catalogue.resolve(chat.model).name
        shape = EventShape(request, chat, shell(request, public))
        stream = await self.chat.open_stream(chat, caller, shape=shape)

        async def save(response: ResponseObject) -> None:
            await self.store.save(caller.owner, items, response)

        return ResponseStream(stream, shape, save if request.store else None)
