"""`ChatStream` for relayed upstream chunks (OpenAI-compatible channels, `providers.openai_relay`).

The client gets the same stream as from `ChatStream`: our id, the public model name and our
`created` on every chunk; chunks without choices dropped; finish chunks held back and sent
with `usage` on the last of them; OpenAI's usage-only chunk with `include_usage`; an error
event and `[DONE]` after a failure; the bill settled exactly once by `aclose()`. What differs
is the cost: each chunk is the upstream's own object with four keys rewritten and one orjson
call, and each batch (one network read) becomes one frame, so one `send`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from ..protocol.chat import ChatCompletionRequest
from ..protocol.chat_response import Usage
from ..protocol.errors import APIError
from ..providers.openai_relay import RelayChunk
from .metering import estimate_tokens
from .sse import DONE, error_event, json_frame, json_frames
from .stream import Settle, SettlingStream

_OBJECT = "chat.completion.chunk"


class RelayStream(SettlingStream[list[RelayChunk]]):
    """A stream of the upstream's own chunk objects, a batch per network read."""

    def __init__(
        self,
        source: AsyncIterator[list[RelayChunk]],
        first: list[RelayChunk] | None,
        request: ChatCompletionRequest,
        public_model: str,
        completion_id: str,
        settle: Settle,
        prompt_chars: int,
    ) -> None:
        self._include_usage = bool(request.stream_options and request.stream_options.include_usage)
        self._prompt_chars = prompt_chars
        self._chars = 0  # streamed text and call arguments, for an estimate
        self._held: list[dict[str, Any]] = []  # finish chunks, released with usage
        super().__init__(source, first, public_model, completion_id, settle)
        # What every chunk says about itself, whatever the upstream said.
        self._stamp = {
            "id": self._id,
            "object": _OBJECT,
            "created": self._created,
            "model": self._model,
        }

    async def _frames(self) -> AsyncGenerator[bytes, None]:
        try:
            if self._first is not None:
                frame = self._accept(self._first)
                if frame:
                    yield frame
            async for batch in self._source:
                frame = self._accept(batch)
                if frame:
                    yield frame
        except APIError as exc:
            self._error = exc
            yield self._release_held() + error_event(exc) + DONE
            return
        tail = self._release_held()
        if self._include_usage:
            usage = self._usage or Usage()
            tail += json_frame(self._identify({"choices": [], "usage": usage.model_dump()}))
        self._finished = True
        yield tail + DONE

    def _identify(self, data: dict[str, Any]) -> dict[str, Any]:
        data.update(self._stamp)
        return data

    def _accept(self, batch: list[RelayChunk]) -> bytes:
        passed: list[dict[str, Any]] = []
        stamp = self._stamp
        for chunk in batch:
            if chunk.usage is not None:
                self._usage = chunk.usage
            if not chunk.choices:
                continue
            self._chars += chunk.chars
            data = chunk.data
            data.update(stamp)
            if chunk.finished:
                self._held.append(data)
            else:
                passed.append(data)
        return json_frames(passed) if passed else b""

    def _release_held(self) -> bytes:
        held, self._held = self._held, []
        if not held:
            return b""
        usage = self._usage
        held[-1]["usage"] = usage.model_dump() if usage is not None else None
        return json_frames(held)

    def _billed(self) -> tuple[Usage | None, bool]:
        """The reported usage, or an estimate (True) when there is none."""
        if self._usage is not None:
            return self._usage, False
        return Usage.of(estimate_tokens(self._prompt_chars), estimate_tokens(self._chars)), True
