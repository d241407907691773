"""A streamed response: chat chunks in, the Responses API's semantic events out.

The order is OpenAI's: `response.created`, `response.in_progress`; for `file_search` its
item (`output_item.added`, `file_search_call.in_progress`, `.searching`, `.completed`,
`output_item.done`); then per output item, in turn: a message (`output_item.added`,
`content_part.added`, `output_text.delta`…, `output_text.annotation.added`…,
`output_text.done`, `content_part.done`, `output_item.done`) or a function call
(`output_item.added`, `function_call_arguments.delta`…, `function_call_arguments.done`,
`output_item.done`); last `response.completed` (or `response.incomplete` when
`max_output_tokens` cut the answer). A failure after the first byte is an `error` event then
`response.failed`. Every event is `event: <type>` + `data: <json>` with a `sequence_number`
from 0; there is no `[DONE]`.

The chat pipeline runs the stream (`ChatStream`, with this module's `EventShape` as its
shape): admission, routing, billing and the client's departure work as for chat.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable

from pydantic import BaseModel

from ..chat.sse import DONE, event
from ..chat.stream import ChatStream
from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import ChatCompletionChunk, FinishReason, KnowledgeBaseCites
from ..protocol.response_objects import (
    AnnotationAddedEvent,
    ArgumentsDeltaEvent,
    ArgumentsDoneEvent,
    ContentPartEvent,
    ErrorEvent,
    FileSearchCall,
    FileSearchEvent,
    FunctionCallOutput,
    OutputItem,
    OutputItemEvent,
    OutputMessage,
    OutputText,
    ResponseError,
    ResponseEvent,
    ResponseObject,
    TextDeltaEvent,
    TextDoneEvent,
)
from ..protocol.responses import ResponseCreateRequest
from .response import RESULTS, citations, file_search_call, finish_status, usage_of

_ERROR_FRAME = b'data: {"error"'


def frame(payload: BaseModel, kind: str) -> bytes:
    return b"event: " + kind.encode() + b"\n" + event(payload)


class EventShape:
    """Chat chunks → Responses events, as ready SSE bytes (a `ChatStream` shape)."""

    def __init__(
        self, request: ResponseCreateRequest, chat: ChatCompletionRequest, response: ResponseObject
    ) -> None:
        self.response = response  # the shell; finished in place
        self.final: ResponseObject | None = None  # set once the answer is complete
        self._request = request
        self._chat = chat
        self._seq = 0
        self._items: list[OutputItem] = []
        self._message: OutputMessage | None = None
        self._call: FunctionCallOutput | None = None
        self._calls: dict[int, FunctionCallOutput] = {}
        self._search: FileSearchCall | None = None

    def _next(self) -> int:
        seq, self._seq = self._seq, self._seq + 1
        return seq

    def _lifecycle(self, kind: str) -> bytes:
        return frame(
            ResponseEvent(type=kind, sequence_number=self._next(), response=self.response), kind
        )

    def _item_event(self, kind: str, item: OutputItem) -> bytes:
        index = self._items.index(item)
        payload = OutputItemEvent(
            type=kind, sequence_number=self._next(), output_index=index, item=item
        )
        return frame(payload, kind)

    def _open(self, item: OutputItem) -> bytes:
        self._items.append(item)
        return self._item_event("response.output_item.added", item)

    def prelude(self) -> bytes:
        """Everything before the model's first word (the search ran before the stream)."""
        out = self._lifecycle("response.created") + self._lifecycle("response.in_progress")
        if not self._request.vector_store_ids():
            return out
        search = file_search_call(self._chat, None, False)
        search.status = "in_progress"
        self._search = search
        out += self._open(search)
        index = self._items.index(search)
        for step in ("in_progress", "searching", "completed"):
            kind = f"response.file_search_call.{step}"
            payload = FileSearchEvent(
                type=kind, sequence_number=self._next(), item_id=search.id, output_index=index
            )
            out += frame(payload, kind)
        search.status = "completed"
        return out + self._item_event("response.output_item.done", search)

    def __call__(self, chunk: ChatCompletionChunk) -> bytes | None:
        if not chunk.choices:
            return None
        choice = chunk.choices[0]
        delta = choice.delta
        out = b""
        if delta.content:
            out += self._text(delta.content)
        for call in delta.tool_calls or ():
            out += self._close_message(None)
            known = self._calls.get(call.index)
            if known is None:
                out += self._close_call()
                function = call.function
                known = FunctionCallOutput(
                    call_id=call.id or f"call_{len(self._calls)}",
                    name=(function.name if function else None) or "",
                )
                self._calls[call.index] = self._call = known
                out += self._open(known)
            arguments = call.function.arguments if call.function else None
            if arguments:
                known.arguments += arguments
                payload = ArgumentsDeltaEvent(
                    sequence_number=self._next(),
                    item_id=known.id,
                    output_index=self._items.index(known),
                    delta=arguments,
                )
                out += frame(payload, payload.type)
        if choice.finish_reason is not None:
            out += self.finish(choice.finish_reason, chunk)
        return out or None

    def _text(self, text: str) -> bytes:
        out = self._close_call()
        message = self._message
        if message is None:
            message = self._message = OutputMessage()
            out += self._open(message) + self._part("response.content_part.added", OutputText())
        part = message.content[0] if message.content else None
        if part is None:
            part = OutputText()
            message.content.append(part)
        part.text += text
        payload = TextDeltaEvent(
            sequence_number=self._next(),
            item_id=message.id,
            output_index=self._items.index(message),
            content_index=0,
            delta=text,
        )
        return out + frame(payload, payload.type)

    def _part(self, kind: str, part: OutputText) -> bytes:
        assert self._message is not None
        payload = ContentPartEvent(
            type=kind,
            sequence_number=self._next(),
            item_id=self._message.id,
            output_index=self._items.index(self._message),
            content_index=0,
            part=part,
        )
        return frame(payload, kind)

    def _close_message(self, cites: KnowledgeBaseCites | None, status: str = "completed") -> bytes:
        message = self._message
        if message is None:
            return b""
        if not message.content:
            message.content.append(OutputText())
        part = message.content[0]
        index = self._items.index(message)
        out = b""
        if cites is not None and cites.cites:
            part.annotations = citations(part.text, cites.cites)
            for n, note in enumerate(part.annotations):
                added = AnnotationAddedEvent(
                    sequence_number=self._next(),
                    item_id=message.id,
                    output_index=index,
                    content_index=0,
                    annotation_index=n,
                    annotation=note,
                )
                out += frame(added, added.type)
        done = TextDoneEvent(
            sequence_number=self._next(),
            item_id=message.id,
            output_index=index,
            content_index=0,
            text=part.text,
        )
        out += frame(done, done.type) + self._part("response.content_part.done", part)
        message.status = "completed" if status == "completed" else "incomplete"
        out += self._item_event("response.output_item.done", message)
        self._message = None
        return out

    def _close_call(self) -> bytes:
        call = self._call
        if call is None:
            return b""
        self._call = None
        payload = ArgumentsDoneEvent(
            sequence_number=self._next(),
            item_id=call.id,
            output_index=self._items.index(call),
            name=call.name,
            arguments=call.arguments,
        )
        call.status = "completed"
        return frame(payload, payload.type) + self._item_event("response.output_item.done", call)

    def finish(self, reason: FinishReason | None, chunk: ChatCompletionChunk | None) -> bytes:
        """Close what is open and send the finished response."""
        response = self.response
        finish_status(response, reason)
        cites = chunk.knowledge_base if chunk is not None else None
        out = self._close_call()
        if self._message is None and not self._calls:
            self._message = OutputMessage()  # an empty answer is still a message
            out += self._open(self._message)
            out += self._part("response.content_part.added", OutputText())
        out += self._close_message(cites, response.status)
        if self._search is not None and cites is not None and self._request.includes(RESULTS):
            self._search.results = file_search_call(self._chat, cites, True).results
        response.output = list(self._items)
        if chunk is not None and chunk.usage is not None:
            response.usage = usage_of(chunk.usage)
        response.knowledge_base = cites
        self.final = response
        kind = "response.completed" if response.status == "completed" else "response.incomplete"
        return out + self._lifecycle(kind)

    def failure(self, code: str, message: str, param: str | None) -> bytes:
        """An `error` event, then `response.failed`."""
        error = ErrorEvent(sequence_number=self._next(), code=code, message=message, param=param)
        self.response.status = "failed"
        self.response.error = ResponseError(code=code, message=message)
        self.response.output = list(self._items)
        return frame(error, error.type) + self._lifecycle("response.failed")


class ResponseStream:
    """The SSE bytes of a streamed response; `aclose()` closes (and bills) the chat stream.

    `save` stores the finished response before its `response.completed` leaves, so a client
    that reads it can name it in `previous_response_id` at once."""

    def __init__(
        self,
        chat: ChatStream,
        shape: EventShape,
        save: Callable[[ResponseObject], Awaitable[None]] | None,
    ) -> None:
        self._chat = chat
        self._shape = shape
        self._save = save
        self._body = self._frames()

    def __aiter__(self) -> AsyncGenerator[bytes, None]:
        return self._body

    async def _frames(self) -> AsyncGenerator[bytes, None]:
        yield self._shape.prelude()
        async for chunk_frames in self._chat:
            body = chunk_frames
            if body.endswith(DONE):  # the chat stream's end: ours has no [DONE]
                body = self._tail(body[: -len(DONE)])
            final = self._shape.final
            if final is not None and final.status != "failed" and self._save is not None:
                save, self._save = self._save, None
                await save(final)
            if body:
                yield body

    def _tail(self, body: bytes) -> bytes:
        at = body.rfind(_ERROR_FRAME)
        if at >= 0:  # the chat stream's error event: ours instead
            error = json.loads(body[at + len(b"data: ") :])["error"]
            code = error.get("code") or error.get("type") or "server_error"
            message = error.get("message") or "The response failed."
            return body[:at] + self._shape.failure(code, message, error.get("param"))
        if self._shape.final is None:  # the source ended without a finish reason
            return body + self._shape.finish("stop", None)
        return body

    async def aclose(self) -> None:
        await self._body.aclose()
        await self._chat.aclose()
