"""`LocalEngine`: one GGUF model, its prompt format and its continuous-batching scheduler."""

from __future__ import annotations

import logging
import time
from typing import Any

from .config import EngineSettings
from .generation import Generation
from .native import ContextShape, NativeModel
from .prompt import PromptRenderer
from .sampling import SamplingParams
from .scheduler import Scheduler

log = logging.getLogger("modelport.engine")


class LocalEngine:
    def __init__(self, model_path: str, settings: EngineSettings) -> None:
        started = time.perf_counter()
        self.settings = settings
        self.model = NativeModel(model_path)
        self.scheduler = Scheduler(
            self.model,
            lane_shapes(settings, self.model.n_ctx_train),
            max_queue=settings.max_queue,
            prefill_chunk=settings.prefill_chunk,
            wide_threads=settings.n_threads_batch,
            prefix_cache=settings.prefix_cache,
        )
        self.renderer = PromptRenderer(
            self.model.chat_template,
            bos_token=self.model.token_text(self.model.bos) if self.model.bos >= 0 else "",
            eos_token=self.model.token_text(self.model.eos) if self.model.eos >= 0 else "",
        )
        self.scheduler.start()
        log.info(
            "engine ready: %s (lanes: %d, ctx %s, %d slots) in %.2fs",
            model_path,
            len(self.scheduler.lanes),
            "+".join(str(lane.shape.n_ctx) for lane in self.scheduler.lanes),
            settings.slots,
            time.perf_counter() - started,
        )

    @property
    def context_size(self) -> int:
        """The most tokens (prompt + completions) one request may take."""
        return self.scheduler.max_context

    @property
    def max_choices(self) -> int:
        return self.scheduler.max_choices

    def render(self, messages: list[dict[str, Any]]) -> list[int]:
        return self.model.tokenize(self.renderer.render(messages))

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenize(text, add_special=False, parse_special=False))

    def submit(self, prompt: list[int], choices: list[SamplingParams]) -> Generation:
        return self.scheduler.submit(prompt, choices)

    def close(self) -> None:
        self.scheduler.stop()
        self.model.close()


def lane_shapes(settings: EngineSettings, n_ctx_train: int) -> list[ContextShape]:
    """Split the slots (and their KV cells) evenly over the lanes. A lane decodes a batch on
    its own `n_threads`; `n_threads_batch` is what it may take for a wide step (width.py)."""
    lanes = max(1, min(settings.lanes, settings.slots))
    shapes = []
    for lane in range(lanes):
        slots = settings.slots // lanes + (1 if lane < settings.slots % lanes else 0)
        shapes.append(
            ContextShape(
                n_ctx=min(slots * settings.context_per_slot, max(n_ctx_train, 512)),
                n_batch=settings.batch_size,
                n_seq_max=slots,
                n_threads=settings.n_threads,
                n_threads_batch=settings.n_threads,
            )
        )
    return shapes
