"""One ERNIE stream's events → our chunks, then a `StreamEnd` with the usage Baidu reported.

Every event carries a piece of the answer and the usage so far (cumulative, so the last
event's figures are the totals); `is_end` marks the last one. A stream that stops before it
was cut short and is malformed.
"""

from __future__ import annotations

import time

from pydantic import ValidationError

from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import (
    ChatCompletionChunk,
    ChunkChoice,
    Delta,
    FunctionCallDelta,
    ToolCallDelta,
    completion_id,
)
from ..chunks import tool_call_id
from ..errors import malformed
from ..sse import ServerSentEvent
from ..stream import StreamEnd, StreamItem
from .codes import ernie_error
from .convert import finish_reason, usage_of
from .wire import ErnieEvent, ErnieUsage

VENDOR = "ERNIE"


class ErnieReader:
    """A `StreamReader`: one chunk per event, usage kept for the end, `is_end` to stop."""

    def __init__(self, request: ChatCompletionRequest) -> None:
        self.done = False
        self._request = request
        self._id = completion_id()
        self._created = int(time.time())
        self._first = True
        self._usage: ErnieUsage | None = None

    def read(self, event: ServerSentEvent) -> list[StreamItem]:
        try:
            part = ErnieEvent.model_validate_json(event.data)
        except ValidationError as exc:
            if exc.errors()[0]["type"] == "json_invalid":
                raise malformed(VENDOR, "an event is not valid JSON") from None
            raise  # a shape we did not expect: the driver's `convert` reports it
        if part.error_code is not None:
            raise ernie_error(part.error_code, part.error_msg)
        if part.usage is not None:
            self._usage = part.usage
        self.done = part.is_end
        delta = self._delta(part)
        finish = finish_reason(part, self._request) if part.is_end else None
        if not (self._first or finish or delta.content or delta.function_call or delta.tool_calls):
            return []  # nothing new in this event
        self._first = False
        chunk = ChatCompletionChunk(
            id=self._id,
            created=self._created,
            model=self._request.model,
            choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)],
        )
        return [chunk]

    def close(self) -> list[StreamItem]:
        if not self.done:
            raise malformed(VENDOR, "the stream ended before its last event (is_end)")
        return [StreamEnd(usage_of(self._usage))] if self._usage is not None else []

    def _delta(self, part: ErnieEvent) -> Delta:
        delta = Delta(role="assistant" if self._first else None, content=part.result or None)
        call = part.function_call
        if call is not None:
            fn = FunctionCallDelta(name=call.name, arguments=call.arguments)
            if self._request.uses_legacy_functions():
                delta.function_call = fn
            else:
                delta.tool_calls = [
                    ToolCallDelta(index=0, id=tool_call_id(), type="function", function=fn)
                ]
        return delta
