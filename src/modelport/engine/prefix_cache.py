"""A lane's prompt (prefix) cache: the KV cells of finished sequences, kept for the next
request that starts the same way (the same system prompt, the conversation so far, the same
knowledge-base passages), so that request prefills only what is new.

A finished leader's sequence id and cells are kept here instead of being cleared, with the
tokens they hold (its prompt and the tokens it decoded). A new request copies the longest
matching prefix into its own sequence (`seq_cp`: in the unified cache the cells are shared,
not duplicated) and prefills from there; the entry stays for others. Entries are the first to
go when a request needs cells or sequence ids (least recently used first); an entry that is
a prefix of a newer one is dropped when the newer one arrives.

Cells are counted for each holder, so shared cells count twice: the accounting can only
overstate what the cache holds, never let a decode run out of cells.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

MIN_REUSE = 16  # a shorter match is not worth the bookkeeping


class SequenceMemory(Protocol):
    """The KV operations the cache needs of a lane's context."""

    def forget(self, seq_id: int) -> None: ...

    def copy_sequence(self, src: int, dst: int, upto: int) -> None: ...


@dataclass(eq=False)
class CachedPrefix:
    seq_id: int
    tokens: list[int]
    used: float = field(default_factory=time.monotonic)


def common_prefix(a: list[int], b: list[int]) -> int:
    """The length of the longest common prefix of two token lists."""
    limit = min(len(a), len(b))
    if a[:limit] == b[:limit]:
        return limit
    low, high = 0, limit  # a[:low] == b[:low], a[:high] != b[:high]
    while high - low > 1:
        middle = (low + high) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle
    return low


class PrefixCache:
    def __init__(self, memory: SequenceMemory, free_ids: list[int], enabled: bool = True) -> None:
        self._memory = memory
        self._free_ids = free_ids  # the lane's: a dropped entry's id goes back there
        self.enabled = enabled
        self.entries: list[CachedPrefix] = []  # least recently used first
        self.cells = 0  # cells held by the entries (shared ones counted per holder)

    def __len__(self) -> int:
        return len(self.entries)

    def best(self, prompt: list[int]) -> tuple[CachedPrefix | None, int]:
        """The entry sharing the longest prefix with `prompt` and that length, at most all
        but the prompt's last token (whose logits give the first completion token); (None,
        0) when no entry shares enough to be worth it."""
        best: CachedPrefix | None = None
        best_len = 0
        for entry in self.entries:
            length = common_prefix(entry.tokens, prompt)
            if length > best_len:
                best, best_len = entry, length
        best_len = min(best_len, len(prompt) - 1)
        return (best, best_len) if best is not None and best_len >= MIN_REUSE else (None, 0)

    def free_ids_for(self, needed: int, spare: CachedPrefix | None) -> None:
        """Drops entries (least recently used first, `spare` last) until the lane has
        `needed` free sequence ids, or no entry is left."""
        while len(self._free_ids) < needed and self.entries:
            others = [e for e in self.entries if e is not spare]
            self._drop(others[0] if others else self.entries[0])

    def reuse(self, entry: CachedPrefix, length: int, seq_id: int) -> int:
        """Copies the entry's first `length` cells into `seq_id`; returns `length` (0 when
        the entry is gone: dropped to free an id)."""
        if entry not in self.entries:
            return 0
        self._memory.copy_sequence(entry.seq_id, seq_id, length)
        entry.used = time.monotonic()
        self.entries.remove(entry)
        self.entries.append(entry)
        return length

    def shrink_to(self, cells: int) -> None:
        """Drops entries (least recently used first) until they hold at most `cells`."""
        while self.cells > cells and self.entries:
            self._drop(self.entries[0])

    def keep(self, seq_id: int, tokens: list[int]) -> bool:
        """Keeps a finished sequence's cells; False when caching is off (clear it yourself)."""
        if not self.enabled or len(tokens) < MIN_REUSE:
            return False
        for entry in list(self.entries):  # superseded by the newer, longer one
            if len(entry.tokens) <= len(tokens) and tokens[: len(entry.tokens)] == entry.tokens:
                self._drop(entry)
        self.entries.append(CachedPrefix(seq_id, tokens))
        self.cells += len(tokens)
        return True

    def _drop(self, entry: CachedPrefix) -> None:
        self.entries.remove(entry)
        self.cells -= len(entry.tokens)
        self._memory.forget(entry.seq_id)
        self._free_ids.append(entry.seq_id)

    def clear(self) -> None:
        while self.entries:
            self._drop(self.entries[0])
