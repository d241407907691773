"""The embedded engine as a `Provider`: engine events in, OpenAI completions and chunks out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor

from ...engine.engine import LocalEngine
from ...engine.events import EngineBusy, EngineClosed, Failed, Finished, TextDelta
from ...engine.generation import Generation
from ...engine.logprobs import TokenLogprob as EngineLogprob
from ...engine.prompt import PromptError
from ...hub.store import resolve_model_path
from ...protocol.chat import ChatCompletionRequest
from ...protocol.chat_response import (
    ChatCompletion,
    Usage,
    completion_id,
)
from ...protocol.completions import CompletionRequest, PromptedChat
from ...protocol.errors import APIError, invalid_request, server_overloaded
from ...settings import ChannelConfig, default_gguf_path
from ..base import EngineLoad, ProviderDeps
from ..budget import OutputBudget
from ..driver import NoOptions
from ..errors import UpstreamError
from ..reasoning import refuse_reasoning
from ..stream import Batch, ProviderStream, StreamEnd
from .convert import sampling_choices, template_messages
from .shaping import ChunkShaper, final_choice, wire_logprobs

RENDER_THREADS = 2
# A prompt this short is rendered in well under a millisecond
RENDER_ON_LOOP_CHARS = 8_000
RENDER_ON_LOOP_MESSAGES = 64
# No token of the model is longer than this many characters: a prompt with more characters
# than this many times the context cannot fit, and is refused before it is rendered.
MAX_CHARS_PER_TOKEN = 32


def _chars(request: ChatCompletionRequest) -> int:
    return sum(len(m.text()) for m in request.messages)


def _check_fits(request: ChatCompletionRequest, context_size: int) -> None:
    """Refuse, before any rendering, a prompt that cannot fit the context (each message takes
    at least one token; each token at most `MAX_CHARS_PER_TOKEN` characters)."""
    if len(request.messages) > context_size:
        raise invalid_request(
            f"{len(request.messages)} messages cannot fit this model's context of "
            f"{context_size} tokens.",
            param="messages",
            code="context_length_exceeded",
        )
    chars = _chars(request)
    if chars > context_size * MAX_CHARS_PER_TOKEN:
        raise invalid_request(
            f"The messages ({chars} characters) cannot fit this model's context of "
            f"{context_size} tokens.",
            param="messages",
            code="context_length_exceeded",
        )


class LocalProvider:
    """Serves catalogue models from GGUF files in-process; one engine per file."""

    Options = NoOptions  # a local channel's settings are `model_path` and the engine's

    def __init__(self, deps: ProviderDeps) -> None:
        self._settings = deps.settings.engine
        self._limits = deps.settings.upstream
        self._data_dir = deps.settings.data_dir
        self._engines: dict[str, LocalEngine] = {}
        self._renderer = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="render")

    def engine_for(self, channel: ChannelConfig) -> LocalEngine:
        path = (
            resolve_model_path(channel.model_path, self._data_dir)  # `pulled:NAME` or a path
            if channel.model_path
            else default_gguf_path()
        )
        engine = self._engines.get(path)
        if engine is None:
            engine = LocalEngine(path, self._settings)
            self._engines[path] = engine
        return engine

    def loads(self) -> list[EngineLoad]:
        return [
            EngineLoad(engine.model.path, engine.scheduler.active, engine.scheduler.queued)
            for engine in self._engines.values()
        ]

    async def prepare(self, channel: ChannelConfig) -> None:
        """Load the channel's model now (at startup) rather than on the first request."""
        self.engine_for(channel)

    async def aclose(self) -> None:
        for engine in self._engines.values():
            await asyncio.to_thread(engine.close)
        self._engines.clear()
        self._renderer.shutdown(wait=False, cancel_futures=True)

    async def _start(self, request: ChatCompletionRequest, channel: ChannelConfig) -> Generation:
        refuse_reasoning(request, "Local engine")  # before any model is loaded
        engine = self.engine_for(channel)
        if isinstance(request, PromptedChat):  # a legacy completion: its text, no template
            _check_fits(request, engine.context_size)
            prompt = await self._raw_prompt(engine, request.completion)
        else:
            prompt = await self._render(engine, request)
        if request.n > engine.max_choices:
            raise invalid_request(
                f"n must be at most {engine.max_choices} for this model.", param="n"
            )
        choices = sampling_choices(
            request, len(prompt), engine.context_size, engine.settings, engine.model.n_vocab
        )
        try:
            return engine.submit(prompt, choices)
        except EngineBusy as exc:
            raise server_overloaded() from exc
        except EngineClosed as exc:
            raise APIError(503, str(exc), type="server_error", code="shutting_down") from exc

    async def _raw_prompt(self, engine: LocalEngine, completion: CompletionRequest) -> list[int]:
        """The prompt's tokens as the text spells them (special tokens included, as llama.cpp's
        server reads them, so a client may write its own chat markup)."""
        prompts = completion.prompts()
        if len(prompts) > 1:  # one generation per request: the engine runs one prompt each
            raise invalid_request(
                "The local engine takes one prompt per request; send the prompts one by one.",
                param="prompt",
            )
        text = prompts[0]
        if len(text) <= RENDER_ON_LOOP_CHARS:
            tokens = engine.model.tokenize(text)
        else:
            loop = asyncio.get_running_loop()
            tokens = await loop.run_in_executor(self._renderer, engine.model.tokenize, text)
        if not tokens:
            raise invalid_request("The prompt is empty.", param="prompt")
        return tokens

    async def _render(self, engine: LocalEngine, request: ChatCompletionRequest) -> list[int]:
        messages = template_messages(request)
        _check_fits(request, engine.context_size)
        try:
            short = len(request.messages) <= RENDER_ON_LOOP_MESSAGES
            if short and _chars(request) <= RENDER_ON_LOOP_CHARS:  # quicker than a thread hop
                prompt = engine.render(messages)
            else:  # templating and tokenizing a long one is CPU work: on the renderer's
                # threads, so the event loop keeps answering everyone else meanwhile
                loop = asyncio.get_running_loop()
                prompt = await loop.run_in_executor(self._renderer, engine.render, messages)
        except PromptError as exc:
            raise invalid_request(str(exc), param="messages") from exc
        return prompt

    async def complete(
        self, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> ChatCompletion:
        generation = await self._start(request, channel)
        texts = [""] * request.n
        reasons: list[str] = ["stop"] * request.n
        logprobs = [list[EngineLogprob]() for _ in range(request.n)]
        try:
            async for index, event in generation.events():
                if isinstance(event, TextDelta):
                    texts[index] += event.text
                    logprobs[index].extend(event.logprobs)
                elif isinstance(event, Finished):
                    reasons[index] = event.reason
                elif isinstance(event, Failed):
                    raise UpstreamError(500, event.message, type="server_error")
        finally:
            if not generation.done:
                await generation.cancelled()
        choices = [
            final_choice(
                i,
                texts[i],
                reasons[i],
                request,
                wire_logprobs(logprobs[i]) if request.logprobs else None,
            )
            for i in range(request.n)
        ]
        return ChatCompletion(
            id=completion_id(),
            created=int(time.time()),
            model=request.model,
            choices=choices,
            usage=Usage.of(generation.prompt_tokens, generation.completion_tokens()),
        )

    def stream(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ProviderStream:
        """Chunks as the engine makes them; the usage is exact, even for a stream closed early."""
        run = _LocalRun(self, request, channel)
        budget = OutputBudget.of(request, self._limits)
        return ProviderStream(
            run.items(), request=request, budget=budget, vendor="local engine", counted=run.usage
        )


class _LocalRun:
    """One streamed generation: its chunks, and its exact usage at any moment."""

    def __init__(
        self, provider: LocalProvider, request: ChatCompletionRequest, channel: ChannelConfig
    ) -> None:
        self._provider = provider
        self._request = request
        self._channel = channel
        self._generation: Generation | None = None

    def usage(self) -> Usage | None:
        generation = self._generation
        if generation is None:
            return None
        return Usage.of(generation.prompt_tokens, generation.completion_tokens())

    async def items(self) -> AsyncGenerator[Batch, None]:
        request = self._request
        generation = self._generation = await self._provider._start(request, self._channel)
        shaper = ChunkShaper(request)
        try:
            async for index, event in generation.events():
                if isinstance(event, TextDelta):
                    yield list(shaper.text(index, event.text, event.logprobs))
                elif isinstance(event, Finished):
                    yield list(shaper.finish(index, event.reason))
                else:
                    raise UpstreamError(500, event.message, type="server_error")
            yield [StreamEnd(Usage.of(generation.prompt_tokens, generation.completion_tokens()))]
        finally:
            if not generation.done:
                await generation.cancelled()
