"""A thin, typed layer over llama.cpp's C API (via llama-cpp-python's ctypes bindings).

Only this module, `lane.py` and `sampling.py` touch ctypes; everything else sees Python types.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import Any

import llama_cpp as ll

_backend_lock = threading.Lock()
_backend_ready = False


@ll.llama_log_callback  # type: ignore[untyped-decorator]
def _discard_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama.cpp logs every tensor it loads to stderr; our logs say what matters."""


def init_backend() -> None:
    global _backend_ready
    with _backend_lock:
        if not _backend_ready:
            ll.llama_log_set(_discard_log, ctypes.c_void_p(0))
            ll.llama_backend_init()
            _backend_ready = True


class NativeModel:
    """Loaded weights and vocabulary; safe to tokenize from any thread."""

    def __init__(self, path: str) -> None:
        init_backend()
        params = ll.llama_model_default_params()
        params.n_gpu_layers = 0
        model = ll.llama_model_load_from_file(path.encode(), params)
        if not model:
            raise RuntimeError(f"could not load GGUF model from {path}")
        self.path = path
        self.ptr: Any = model
        self.vocab: Any = ll.llama_model_get_vocab(model)
        self.n_vocab: int = ll.llama_vocab_n_tokens(self.vocab)
        self.n_ctx_train: int = ll.llama_model_n_ctx_train(model)
        self.add_bos: bool = bool(ll.llama_vocab_get_add_bos(self.vocab))
        self.bos: int = ll.llama_vocab_bos(self.vocab)
        self.eos: int = ll.llama_vocab_eos(self.vocab)
        template = ll.llama_model_chat_template(model, None)
        self.chat_template: str | None = template.decode("utf-8") if template else None
        self._piece_cache: dict[int, bytes] = {}

    def token_text(self, token: int) -> str:
        raw = ll.llama_vocab_get_text(self.vocab, token)
        return raw.decode("utf-8", errors="replace") if raw else ""

    def tokenize(
        self, text: str, *, add_special: bool = True, parse_special: bool = True
    ) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 8
        buf = (ll.llama_token * capacity)()
        n = ll.llama_tokenize(
            self.vocab, data, len(data), buf, capacity, add_special, parse_special
        )
        if n < 0:  # buffer too small: -n is the size needed
            capacity = -n
            buf = (ll.llama_token * capacity)()
            n = ll.llama_tokenize(
                self.vocab, data, len(data), buf, capacity, add_special, parse_special
            )
        return list(buf[:n])

    def piece(self, token: int) -> bytes:
        """The bytes a token contributes to the text (control tokens contribute none)."""
        cached = self._piece_cache.get(token)
        if cached is not None:
            return cached
        buf = ctypes.create_string_buffer(64)
        n = ll.llama_token_to_piece(self.vocab, token, buf, 64, 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = ll.llama_token_to_piece(self.vocab, token, buf, -n, 0, False)
        out = buf.raw[:n]
        self._piece_cache[token] = out
        return out

    def token_bytes(self, token: int) -> bytes:
        """What a token writes, or for a control token (which writes nothing) its name."""
        return self.piece(token) or self.token_text(token).encode("utf-8")

    def is_end_of_generation(self, token: int) -> bool:
        return bool(ll.llama_vocab_is_eog(self.vocab, token))

    def close(self) -> None:
        if self.ptr:
            ll.llama_model_free(self.ptr)
            self.ptr = None


@dataclass
class ContextShape:
    n_ctx: int
    n_batch: int
    n_seq_max: int
    n_threads: int  # for single-token decodes (one active stream)
    n_threads_batch: int  # llama.cpp uses this for any batch of more than one token


class NativeContext:
    """A llama.cpp context holding the KV cache shared (unified) by all sequences."""

    def __init__(self, model: NativeModel, shape: ContextShape) -> None:
        params = ll.llama_context_default_params()
        params.n_ctx = shape.n_ctx
        params.n_batch = shape.n_batch
        params.n_ubatch = shape.n_batch
        params.n_seq_max = shape.n_seq_max
        params.n_threads = shape.n_threads
        params.n_threads_batch = shape.n_threads_batch
        params.kv_unified = True
        params.no_perf = True
        ctx = ll.llama_init_from_model(model.ptr, params)
        if not ctx:
            raise RuntimeError("could not create the llama.cpp context")
        self.ptr: Any = ctx
        self.memory: Any = ll.llama_get_memory(ctx)
        self.shape = shape
        self.batch: Any = ll.llama_batch_init(shape.n_batch, 0, 1)

    def forget(self, seq_id: int) -> None:
        ll.llama_memory_seq_rm(self.memory, seq_id, -1, -1)

    def set_threads(self, n_threads: int, n_threads_batch: int) -> None:
        ll.llama_set_n_threads(self.ptr, n_threads, n_threads_batch)

    def copy_sequence(self, src: int, dst: int, upto: int) -> None:
        ll.llama_memory_seq_cp(self.memory, src, dst, 0, upto)

    def decode(self, entries: list[tuple[int, int, int, bool]]) -> int:
        """Decode (token, position, seq_id, wants_logits) entries in one batch; 0 on success."""
        batch = self.batch
        for i, (token, pos, seq_id, logits) in enumerate(entries):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq_id
            batch.logits[i] = logits
        batch.n_tokens = len(entries)
        return int(ll.llama_decode(self.ptr, batch))

    def close(self) -> None:
        if self.batch is not None:
            ll.llama_batch_free(self.batch)
            self.batch = None
        if self.ptr:
            ll.llama_free(self.ptr)
            self.ptr = None
