"""The local engine's text as OpenAI choices and chunks: tool calls (forced, cut short, or
recognised after the fact) and each token's logprobs when asked for."""

from __future__ import annotations

import time

from ...engine.logprobs import Candidate
from ...engine.logprobs import TokenLogprob as EngineLogprob
from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import (
    AssistantMessage,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    FunctionCallDelta,
    FunctionCallOut,
    ToolCallDelta,
    ToolCallOut,
    Usage,
    completion_id,
)
from ...protocol.logprobs import ChoiceLogprobs, TokenLogprob, TopLogprob, token_string
from .tools import ParsedCall, call_id, parse_call, parse_partial_call


class ChunkShaper:
    """Turns per-choice text into OpenAI chunks, streaming tool-call arguments when forced."""

    def __init__(self, request: ChatCompletionRequest) -> None:
        self.request = request
        self.id = completion_id()
        self.created = int(time.time())
        self.mode = request.tool_mode()
        self.legacy = request.uses_legacy_functions()
        n = request.n
        self.started = [False] * n
        self.buffered = [""] * n  # text held back while it may still be a tool call
        self.committed = [False] * n  # the choice answered in text: stream it as it comes
        self.call_ids = [call_id() for _ in range(n)]
        self.logprobs = [list[TokenLogprob]() for _ in range(n)]  # those of the buffered text

    def chunk(self, choices: list[ChunkChoice], usage: Usage | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self.id, created=self.created, model=self.request.model, choices=choices, usage=usage
        )

    def _delta(
        self,
        index: int,
        delta: Delta,
        finish: FinishReason | None = None,
        logprobs: list[TokenLogprob] | None = None,
    ) -> list[ChatCompletionChunk]:
        out = []
        if not self.started[index]:
            self.started[index] = True
            first = Delta(role="assistant", content="" if self.mode != "named" else None)
            if self.mode == "named":
                first = Delta(role="assistant", **self._call_head(index))
            out.append(self.chunk([ChunkChoice(index=index, delta=first)]))
        if delta.content or delta.tool_calls or delta.function_call or finish or logprobs:
            choice = ChunkChoice(
                index=index,
                delta=delta,
                finish_reason=finish,
                logprobs=choice_logprobs(logprobs) if logprobs else None,
            )
            out.append(self.chunk([choice]))
        return out

    def _call_head(self, index: int) -> dict[str, object]:
        name = self.request.named_function() or ""
        if self.legacy:
            return {"function_call": FunctionCallDelta(name=name, arguments="")}
        head = ToolCallDelta(
            index=0,
            id=self.call_ids[index],
            type="function",
            function=FunctionCallDelta(name=name, arguments=""),
        )
        return {"tool_calls": [head]}

    def _arguments(self, text: str) -> Delta:
        if self.legacy:
            return Delta(function_call=FunctionCallDelta(arguments=text))
        return Delta(
            tool_calls=[ToolCallDelta(index=0, function=FunctionCallDelta(arguments=text))]
        )

    def text(
        self, index: int, text: str, logprobs: tuple[EngineLogprob, ...] = ()
    ) -> list[ChatCompletionChunk]:
        """Chunks for a choice's next text; each carries the logprobs of the tokens it shows."""
        tokens = wire_logprobs(logprobs)
        if self.mode == "named":
            return self._delta(index, self._arguments(text), logprobs=tokens)
        if self.mode in ("auto", "required") and not self.committed[index]:
            held = self.buffered[index] + text
            self.logprobs[index].extend(tokens)
            if self.mode == "required" or held.lstrip().startswith("{") or not held.strip():
                self.buffered[index] = held  # may be a call: decide at the end
                return []
            self.buffered[index] = ""
            self.committed[index] = True
            return self._delta(index, Delta(content=held), logprobs=self._take(index))
        return self._delta(index, Delta(content=text), logprobs=tokens)

    def _take(self, index: int) -> list[TokenLogprob]:
        taken, self.logprobs[index] = self.logprobs[index], []
        return taken

    def finish(self, index: int, reason: str) -> list[ChatCompletionChunk]:
        held, self.buffered[index] = self.buffered[index], ""
        if self.mode == "named":
            return self._delta(index, Delta(), _finish_reason(reason, True, self.legacy))
        call, partial = _parse(held, self.request)
        tokens = self._take(index)
        if call is not None:
            delta = _call_delta(call, self.call_ids[index], self.legacy)
            finish = _finish_reason(reason, True, self.legacy, partial)
            return self._delta(index, delta, finish, tokens)
        out = self._delta(index, Delta(content=held) if held else Delta(), logprobs=tokens)
        out.extend(self._delta(index, Delta(), _finish_reason(reason, False, self.legacy)))
        return out


def _parse(text: str, request: ChatCompletionRequest) -> tuple[ParsedCall | None, bool]:
    """The call in a choice's text, and whether it was cut short: a forced ("required")
    call cut by `max_tokens` or a stop sequence is returned as far as it got, as a named
    one is, never as the grammar's wrapper in `content`."""
    call = parse_call(text, request)
    if call is not None:
        return call, False
    partial = parse_partial_call(text, request)
    return partial, partial is not None


def _finish_reason(
    engine_reason: str, called: bool, legacy: bool, partial: bool = False
) -> FinishReason:
    if engine_reason == "length":
        return "length"
    if called and not partial:
        return "function_call" if legacy else "tool_calls"
    return "stop"


def _call_delta(call: ParsedCall, identifier: str, legacy: bool) -> Delta:
    if legacy:
        return Delta(function_call=FunctionCallDelta(name=call.name, arguments=call.arguments))
    return Delta(
        tool_calls=[
            ToolCallDelta(
                index=0,
                id=identifier,
                type="function",
                function=FunctionCallDelta(name=call.name, arguments=call.arguments),
            )
        ]
    )


def wire_logprobs(items: tuple[EngineLogprob, ...] | list[EngineLogprob]) -> list[TokenLogprob]:
    """The engine's logprobs as OpenAI's `content` entries."""
    return [
        TokenLogprob(
            token=token_string(item.chosen.piece),
            logprob=item.chosen.logprob,
            bytes=list(item.chosen.piece),
            top_logprobs=[_top(candidate) for candidate in item.top],
        )
        for item in items
    ]


def _top(candidate: Candidate) -> TopLogprob:
    return TopLogprob(
        token=token_string(candidate.piece),
        logprob=candidate.logprob,
        bytes=list(candidate.piece),
    )


def choice_logprobs(tokens: list[TokenLogprob]) -> dict[str, object]:
    """A choice's `logprobs` (kept as JSON-ready data: the field is read leniently from
    upstreams, so it is typed `Any`)."""
    return ChoiceLogprobs(content=tokens).model_dump(mode="json")


def final_choice(
    index: int,
    text: str,
    reason: str,
    request: ChatCompletionRequest,
    logprobs: list[TokenLogprob] | None = None,
) -> Choice:
    call, partial = _parse(text, request)
    legacy = request.uses_legacy_functions()
    if call is None:
        message = AssistantMessage(content=text)
    elif legacy:
        message = AssistantMessage(
            function_call=FunctionCallOut(name=call.name, arguments=call.arguments)
        )
    else:
        message = AssistantMessage(
            tool_calls=[
                ToolCallOut(
                    id=call_id(), function=FunctionCallOut(name=call.name, arguments=call.arguments)
                )
            ]
        )
    return Choice(
        index=index,
        message=message,
        finish_reason=_finish_reason(reason, call is not None, legacy, partial),
        logprobs=choice_logprobs(logprobs) if logprobs is not None else None,
    )
