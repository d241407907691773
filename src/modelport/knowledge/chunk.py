"""Split parsed documents into overlapping chunks within Baichuan's `split_config` limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .document import Chunk, ParsedDocument, Segment
from .errors import InvalidSplitConfig

MAX_CHUNK_LEN = 512  # Baichuan's upper bound for chunk_max_len
# Coarse to fine: paragraphs, lines, Chinese and Latin sentence ends, clauses, then words.
DEFAULT_SEPARATORS: tuple[str, ...] = (
    "\n\n",
    "\n",
    "。",
    "！",
    "？",
    "；",
    ". ",
    "! ",
    "? ",
    "; ",
    "，",
    ", ",
    " ",
)


@dataclass(frozen=True, slots=True)
class SplitConfig:
    """Chunk sizes in characters; separators are tried in order, coarse to fine."""

    chunk_max_len: int = 500
    chunk_overlap_len: int = 50
    separators: tuple[str, ...] = DEFAULT_SEPARATORS

    def __post_init__(self) -> None:
        if not 1 <= self.chunk_max_len <= MAX_CHUNK_LEN:
            raise InvalidSplitConfig(f"chunk_max_len must be in [1, {MAX_CHUNK_LEN}]")
        if self.chunk_overlap_len < 0:
            raise InvalidSplitConfig("chunk_overlap_len must not be negative")
        if 2 * self.chunk_overlap_len + 1 > self.chunk_max_len:
            raise InvalidSplitConfig("2 * chunk_overlap_len + 1 must not exceed chunk_max_len")
        if any(not s for s in self.separators):
            raise InvalidSplitConfig("separators must be non-empty strings")


def chunk_document(document: ParsedDocument, config: SplitConfig | None = None) -> list[Chunk]:
    """Chunks of every segment in order; a chunk never spans two pages or two headings."""
    return chunk_segments(document.segments, config)


def chunk_segments(segments: Iterable[Segment], config: SplitConfig | None = None) -> list[Chunk]:
    config = config or SplitConfig()
    chunks: list[Chunk] = []
    for segment in segments:
        for text in split_text(segment.text, config):
            chunks.append(Chunk(len(chunks), text, page=segment.page, heading=segment.heading))
    return chunks


def split_text(text: str, config: SplitConfig) -> list[str]:
    """Pieces of at most `chunk_max_len` characters, each starting with up to
    `chunk_overlap_len` characters of the previous piece for context."""
    text = text.strip()
    if not text:
        return []
    units = _units(text, config.separators, config.chunk_max_len, config.chunk_overlap_len)
    return [c for c in (p.strip() for p in _merge(units, config)) if c]


def _units(text: str, separators: Sequence[str], limit: int, overlap: int) -> list[str]:
    """Break `text` at the coarsest separator that helps, recursing into pieces still too long.

    Each separator stays at the end of its piece so sentences keep their punctuation.
    """
    if len(text) <= limit:
        return [text]
    for index, separator in enumerate(separators):
        if separator not in text:
            continue
        pieces = _split_keep(text, separator)
        units: list[str] = []
        for piece in pieces:
            units.extend(_units(piece, separators[index + 1 :], limit, overlap))
        return units
    # No separator left (e.g. a long run of CJK without punctuation): cut hard, leaving room
    # for the overlap that `_merge` prepends.
    step = limit - overlap
    return [text[i : i + step] for i in range(0, len(text), step)]


def _split_keep(text: str, separator: str) -> list[str]:
    parts = text.split(separator)
    pieces = [part + separator for part in parts[:-1]]
    if parts[-1]:
        pieces.append(parts[-1])
    return [p for p in pieces if p]


def _merge(units: list[str], config: SplitConfig) -> list[str]:
    """Greedily pack units into chunks; each new chunk opens with the previous one's tail."""
    limit, overlap = config.chunk_max_len, config.chunk_overlap_len
    chunks: list[str] = []
    current = ""
    fresh = True  # `current` holds only carried-over overlap, nothing new yet
    for unit in units:
        if len(current) + len(unit) <= limit:
            current += unit
            fresh = False
            continue
        if not fresh:
            chunks.append(current)
        tail = _tail(current, overlap) if not fresh else ""
        current = tail[max(0, len(tail) + len(unit) - limit) :] + unit
        fresh = False
    if current and not fresh:
        chunks.append(current)
    return chunks


def _tail(chunk: str, overlap: int) -> str:
    """The last `overlap` characters, starting at a word or sentence boundary when there is one."""
    if overlap <= 0:
        return ""
    tail = chunk[-overlap:]
    for boundary in ("\n", "。", "！", "？", "；", ". ", "，", ", ", " "):
        position = tail.find(boundary)
        rest = tail[position + len(boundary) :] if position >= 0 else ""
        if rest.strip():
            return rest
    return tail
