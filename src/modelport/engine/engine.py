"""`LocalEngine`: one GGUF model, its prompt format and its continuous-batching scheduler."""

from __future__ import annotations

import logging
import time
from typing import Any

from ..settings import EngineSettings
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
        n_ctx = min(settings.slots * settings.context_per_slot, max(self.model.n_ctx_train, 512))
        self.scheduler = Scheduler(
            self.model,
            ContextShape(
                n_ctx=n_ctx,
                n_batch=settings.batch_size,
                n_seq_max=settings.slots,
                n_threads=settings.n_threads,
                n_threads_batch=settings.n_threads_batch,
            ),
        )
        self.scheduler.max_queue = settings.max_queue
        self.renderer = PromptRenderer(
            self.model.chat_template,
            bos_token=self.model.token_text(self.model.bos) if self.model.bos >= 0 else "",
            eos_token=self.model.token_text(self.model.eos) if self.model.eos >= 0 else "",
        )
        self.scheduler.start()
        log.info(
            "engine ready: %s (ctx %d, %d slots) in %.2fs",
            model_path,
            n_ctx,
            settings.slots,
            time.perf_counter() - started,
        )

    @property
    def context_size(self) -> int:
        return self.scheduler.shape.n_ctx

    def render(self, messages: list[dict[str, Any]]) -> list[int]:
        return self.model.tokenize(self.renderer.render(messages))

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenize(text, add_special=False, parse_special=False))

    def submit(self, prompt: list[int], choices: list[SamplingParams]) -> Generation:
        return self.scheduler.submit(prompt, choices)

    def close(self) -> None:
        self.scheduler.stop()
        self.model.close()
