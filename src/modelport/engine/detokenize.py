"""Incremental detokenization with stop sequences that may span token boundaries."""

from __future__ import annotations

import codecs


class TextAssembler:
    """Turns token bytes into text deltas, cutting at the first stop sequence.

    Text that could be the start of a stop sequence is held back until it is known not to be,
    so a stream never shows a client part of a stop sequence.
    """

    def __init__(self, stops: tuple[str, ...] = ()) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = stops
        self._held = ""
        self.text = ""  # everything released so far
        self.stopped = False

    def feed(self, piece: bytes) -> str:
        """Add a token's bytes; return the text that is now safe to release."""
        if self.stopped:
            return ""
        self._held += self._decoder.decode(piece)
        if not self._stops:
            return self._release(len(self._held))
        window = self._held
        cut = -1
        for stop in self._stops:
            index = window.find(stop)
            if index != -1 and (cut == -1 or index < cut):
                cut = index
        if cut != -1:
            self.stopped = True
            out = window[:cut]
            self._held = ""
            self.text += out
            return out
        return self._release(len(window) - self._partial_stop_suffix(window))

    def flush(self) -> str:
        """Release whatever is held (the sequence ended without a stop sequence)."""
        if self.stopped:
            return ""
        self._held += self._decoder.decode(b"", final=True)
        return self._release(len(self._held))

    def _release(self, upto: int) -> str:
        out, self._held = self._held[:upto], self._held[upto:]
        self.text += out
        return out

    def _partial_stop_suffix(self, window: str) -> int:
        """Length of the longest suffix of `window` that is a proper prefix of a stop sequence."""
        best = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(window)), best, -1):
                if stop.startswith(window[-size:]):
                    best = size
                    break
        return best
