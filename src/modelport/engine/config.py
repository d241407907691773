"""The embedded engine's settings (`engine:` in the settings file). Pure pydantic, imported by
`settings`: the engine's own modules take it from here."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field


def _default_threads() -> int:
    cores = os.cpu_count() or 1
    return 1 if cores <= 2 else min(cores, 8)


class EngineSettings(BaseModel):
    """The embedded llama.cpp engine."""

    # Lanes decode side by side, each with its own KV cache and thread, sharing the weights; a
    # request runs in one lane, and slots and KV cells are split evenly. One lane (the default)
    # batches every stream into one decode, whose matrix products gain most from the batch;
    # two lanes on 2 cores stream the weights twice per step (measured here, 4 streams over
    # HTTP: 1.69x one stream with 2 lanes, 1.81x with 1), but keep a long prompt's prefill from
    # delaying streams in the other lane.
    lanes: int = Field(default=1, ge=1, le=16)
    # Threads of a lane's steps (on <= 2 cores one is fastest for a single stream: the event
    # loop needs the other core).
    n_threads: int = Field(default_factory=lambda: _default_threads(), ge=1)
    # Threads a multi-token step (several streams, a prompt chunk) may take while the other
    # lanes idle: OpenMP spreads it over every core, which nearly halves it on a quiet machine
    # but collapses when other processes want the cores, so each lane times both widths and
    # keeps the faster one (engine/width.py).
    n_threads_batch: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 8), ge=1)
    slots: int = Field(default=8, ge=1, le=64)
    # The KV cache holds slots * context_per_slot tokens in all, shared by whoever needs it.
    context_per_slot: int = Field(default=1024, ge=64)
    batch_size: int = Field(default=512, ge=32)
    # Prompt tokens a lane prefills per step: streams decoding in the same lane wait at most
    # this many tokens' worth for their next one (64: ~0.5 s here; prefill is no slower).
    prefill_chunk: int = Field(default=64, ge=1)
    # Keep finished requests' KV cells for the next request that starts the same way (a
    # conversation's next turn prefills only what is new): engine/prefix_cache.py.
    prefix_cache: bool = True
    max_queue: int = Field(default=64, ge=0)
    default_max_tokens: int = Field(default=512, ge=1)
    default_temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    default_top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    # Used when a request sets no top_k (llama.cpp's own default). Sampling then sorts 40
    # candidates instead of the whole vocabulary: ~0.15 ms instead of ~2.8 ms a token here,
    # which matters because sampling is per sequence while decoding is batched. 0: off.
    default_top_k: int = Field(default=40, ge=0)
    # Several local models (docs/models.md, "Several local models"): each loads on its first
    # request and unloads after `keep_alive` idle seconds (Ollama's 5 minutes; -1: never,
    # 0: right after each request; a local channel's `options.keep_alive` overrides it).
    # Loaded models (GGUF file + KV cache, estimated) stay within `memory_budget_mb` (unset:
    # half the machine's RAM): the least recently used idle ones are unloaded to make room,
    # and a load waits up to `load_wait` seconds for busy ones before a 503.
    keep_alive: float = Field(default=300.0, ge=-1)
    memory_budget_mb: int | None = Field(default=None, ge=1)
    load_wait: float = Field(default=30.0, ge=0)

    def memory_budget(self) -> int:
        """The budget in bytes."""
        if self.memory_budget_mb is not None:
            return self.memory_budget_mb * 1024 * 1024
        try:
            ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            ram = 8 * 1024**3
        return ram // 2
