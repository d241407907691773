"""What a GGUF file will cost in memory once loaded, read from its header (no llama.cpp):
the file's size (its weights, mapped) plus the KV cache the engine's settings give it."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from ...engine.config import EngineSettings

GGUF_MAGIC = b"GGUF"
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q"}
_SCALARS[12] = "d"
_STRING, _ARRAY = 8, 9
KV_BYTES = 2  # f16 keys and values, llama.cpp's default cache type
# A file whose header cannot be read: its KV cache is guessed as this share of its size.
KV_GUESS = 0.25


def is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _read(fh: BinaryIO, fmt: str) -> int | float | bool:
    size = struct.calcsize("<" + fmt)
    data = fh.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    value: int | float | bool = struct.unpack("<" + fmt, data)[0]
    return value


def _string(fh: BinaryIO) -> str:
    length = int(_read(fh, "Q"))
    return fh.read(length).decode("utf-8", errors="replace")


def _value(fh: BinaryIO, kind: int) -> object:
    if kind in _SCALARS:
        return _read(fh, _SCALARS[kind])
    if kind == _STRING:
        return _string(fh)
    if kind == _ARRAY:
        item, count = int(_read(fh, "I")), int(_read(fh, "Q"))
        if item in _SCALARS:  # skipped: only scalars are wanted
            fh.seek(struct.calcsize("<" + _SCALARS[item]) * count, 1)
        else:
            for _ in range(count):
                _value(fh, item)
        return None
    raise ValueError(f"unknown GGUF value type {kind}")


_SHAPE_KEYS = (
    "block_count",
    "embedding_length",
    "attention.head_count",
    "attention.head_count_kv",
    "context_length",
)


def read_metadata(path: Path) -> dict[str, object]:
    """The header's key/value pairs (arrays left out), up to the last the KV cache's size
    needs (the vocabulary after them is long to read and not needed)."""
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise ValueError(f"{path} is not a GGUF file")
        _read(fh, "I")  # version
        _read(fh, "Q")  # tensors
        count = int(_read(fh, "Q"))
        meta: dict[str, object] = {}
        for _ in range(count):
            key = _string(fh)
            meta[key] = _value(fh, int(_read(fh, "I")))
            arch = meta.get("general.architecture")
            if arch and all(f"{arch}.{k}" in meta for k in _SHAPE_KEYS):
                break
        return meta


def kv_cache_bytes(meta: dict[str, object], settings: EngineSettings) -> int:
    """The KV cache the engine allocates for this model: every lane's cells (slots times the
    context per slot, at most the trained context, as `lane_shapes` splits them)."""
    arch = str(meta["general.architecture"])

    def number(key: str, default: int = 0) -> int:
        value = meta.get(f"{arch}.{key}", default)
        return int(value) if isinstance(value, int | float) else default

    layers, embd = number("block_count"), number("embedding_length")
    heads = number("attention.head_count", 1) or 1
    kv_heads = number("attention.head_count_kv", heads) or heads
    trained = number("context_length", 2048)
    lanes = max(1, min(settings.lanes, settings.slots))
    cells = 0
    for lane in range(lanes):
        slots = settings.slots // lanes + (1 if lane < settings.slots % lanes else 0)
        cells += min(slots * settings.context_per_slot, max(trained, 512))
    return cells * layers * 2 * (embd * kv_heads // heads) * KV_BYTES


def model_cost(path: str, settings: EngineSettings) -> int:
    """Bytes this model takes loaded: its file plus its KV cache (estimated)."""
    file = Path(path)
    size = file.stat().st_size
    try:
        return size + kv_cache_bytes(read_metadata(file), settings)
    except (OSError, ValueError, KeyError, struct.error):
        return size + int(size * KV_GUESS)
