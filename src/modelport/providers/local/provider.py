"""The embedded engine as a `Provider`: engine events in, OpenAI completions and chunks out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, Field

from ...engine.engine import LocalEngine
from ...engine.events import EngineBusy, EngineClosed, Failed, Finished, TextDelta
from ...engine.generation import Generation
from ...engine.logprobs import TokenLogprob as EngineLogprob
from ...engine.prompt import PromptError
from ...hub.download import PullError
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
from ..errors import UpstreamError
from ..reasoning import refuse_reasoning
from ..stream import Batch, ProviderStream, StreamEnd
from .convert import sampling_choices, template_messages
from .gguf_meta import model_cost
from .pool import ModelPool, PoolFull, SlotState
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


class LocalOptions(BaseModel, extra="forbid"):
    """A local channel's `options`: how long its model stays loaded when idle (seconds; -1
    for ever, 0 unloaded after each request; unset: `engine.keep_alive`)."""

    keep_alive: float | None = Field(default=None, ge=-1)


def model_overloaded(retry_after: int = 5) -> APIError:
    return APIError(
        503,
        "No room to load this model within the memory budget: the loaded models are all "
        "in use; retry shortly.",
        type="server_error",
        code="model_overloaded",
        headers={"Retry-After": str(retry_after)},
    )


class LocalProvider:
    """Serves catalogue models from GGUF files in-process; one engine per file, loaded on
    first use and unloaded when idle (`pool.py`)."""

    Options = LocalOptions  # a local channel's settings are `model_path` and these

    def __init__(self, deps: ProviderDeps) -> None:
        self._settings = deps.settings.engine
        self._limits = deps.settings.upstream
        self._data_dir = deps.settings.data_dir
        settings = self._settings
        self.pool: ModelPool[LocalEngine] = ModelPool(
            load=lambda path: LocalEngine(path, settings),
            unload=LocalEngine.close,
            cost=lambda path: model_cost(path, settings),
            budget=settings.memory_budget(),
            wait=settings.load_wait,
        )
        self._preloaded = False
        self._strays: list[LocalEngine] = []  # `engine_for`'s
        self._renderer = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="render")

    def model_file(self, channel: ChannelConfig) -> str:
        """The channel's GGUF file: `model_path` (`pulled:NAME` or a path), else SmolLM2's."""
        if channel.model_path:
            return resolve_model_path(channel.model_path, self._data_dir)
        return default_gguf_path()

    def keep_alive(self, channel: ChannelConfig) -> float:
        own = channel.typed_options(LocalOptions).keep_alive
        return self._settings.keep_alive if own is None else own

    @contextlib.asynccontextmanager
    async def lease(self, channel: ChannelConfig) -> AsyncIterator[LocalEngine]:
        """The channel's engine, loaded if need be and kept loaded until the block ends."""
        async with contextlib.AsyncExitStack() as stack:
            try:
                path = self.model_file(channel)
                lease = self.pool.lease(path, self.keep_alive(channel))
                engine = await stack.enter_async_context(lease)
            except PoolFull as exc:
                raise model_overloaded() from exc
            except (OSError, PullError, RuntimeError) as exc:  # a file gone, or no model
                raise UpstreamError(
                    503,
                    f"The model could not be loaded: {exc}",
                    type="server_error",
                    code="model_load_failed",
                ) from exc
            yield engine

    def engine_for(self, channel: ChannelConfig) -> LocalEngine:
        """The channel's engine if loaded, else loaded now, outside the pool's leases (tests
        and tools only: the server takes a `lease`)."""
        path = self.model_file(channel)
        for loaded, engine, _ in self.pool.engines():
            if loaded == path:
                return engine
        engine = LocalEngine(path, self._settings)
        self._strays.append(engine)
        return engine

    def status(self, channel: ChannelConfig) -> SlotState | None:
        """Whether the channel's model is loaded, and until when (None: no such file)."""
        try:
            return self.pool.state(self.model_file(channel))
        except (OSError, ValueError, RuntimeError):
            return None

    def loads(self) -> list[EngineLoad]:
        return [
            EngineLoad(
                path,
                engine.scheduler.active,
                engine.scheduler.queued,
                expires_at=state.expires_at,
                size=state.size,
            )
            for path, engine, state in self.pool.engines()
        ] + [EngineLoad(e.model.path, e.scheduler.active, e.scheduler.queued) for e in self._strays]

    async def prepare(self, channel: ChannelConfig) -> None:
        """At start-up: load the first local model now (so the server answers at once); the
        others load on their first request. Every model's file must be there."""
        path = self.model_file(channel)
        if not self._preloaded:
            self._preloaded = True
            async with self.pool.lease(path, self.keep_alive(channel)):
                pass
        elif not await asyncio.to_thread(os.path.isfile, path):
            raise FileNotFoundError(f"no model file {path}")

    async def retire(self, channel: ChannelConfig) -> None:
        """Unload the channel's model now, or when its last request ends."""
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            await self.pool.retire(self.model_file(channel))

    async def aclose(self) -> None:
        await self.pool.aclose()
        for engine in self._strays:
            await asyncio.to_thread(engine.close)
        self._strays.clear()
        self._renderer.shutdown(wait=False, cancel_futures=True)

    async def _start(self, request: ChatCompletionRequest, engine: LocalEngine) -> Generation:
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
        refuse_reasoning(request, "Local engine")  # before any model is loaded
        async with self.lease(channel) as engine:
            return await self._complete(request, engine)

    async def _complete(
        self, request: ChatCompletionRequest, engine: LocalEngine
    ) -> ChatCompletion:
        generation = await self._start(request, engine)
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
            usage=_usage(generation),
        )

    def stream(self, request: ChatCompletionRequest, channel: ChannelConfig) -> ProviderStream:
        """Chunks as the engine makes them; the usage is exact, even for a stream closed early."""
        run = _LocalRun(self, request, channel)
        budget = OutputBudget.of(request, self._limits)
        return ProviderStream(
            run.items(), request=request, budget=budget, vendor="local engine", counted=run.usage
        )


def _usage(generation: Generation) -> Usage:
    prompt, completion, cached = generation.usage()
    return Usage.of(prompt, completion, cached=cached)


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
        return _usage(generation)

    async def items(self) -> AsyncGenerator[Batch, None]:
        refuse_reasoning(self._request, "Local engine")  # before any model is loaded
        async with (
            self._provider.lease(self._channel) as engine,
            contextlib.aclosing(self._items(engine)) as items,  # ends before the lease does
        ):
            async for batch in items:
                yield batch

    async def _items(self, engine: LocalEngine) -> AsyncGenerator[Batch, None]:
        request = self._request
        generation = self._generation = await self._provider._start(request, engine)
        shaper = ChunkShaper(request)
        try:
            async for index, event in generation.events():
                if isinstance(event, TextDelta):
                    yield list(shaper.text(index, event.text, event.logprobs))
                elif isinstance(event, Finished):
                    yield list(shaper.finish(index, event.reason))
                else:
                    raise UpstreamError(500, event.message, type="server_error")
            yield [StreamEnd(_usage(generation))]
        finally:
            if not generation.done:
                await generation.cancelled()
