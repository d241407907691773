"""Incremental detokenization with stop sequences that may span token boundaries.

Byte-level vocabularies split a multi-byte UTF-8 character across tokens ("春" is two tokens
of SmolLM2's), so text is released only once a character is whole, and a sequence that ends
inside one (a length stop, most often) drops the fragment rather than showing U+FFFD.
"""

from __future__ import annotations

import codecs


class TextAssembler:
    """Turns token bytes into text deltas, cutting at the first stop sequence.

    Text that could be the start of a stop sequence is held back until it is known not to be,
    so a stream never shows a client part of a stop sequence. Bytes of an unfinished character
    wait in the decoder; a fragment that can never become a character (the sequence ended, or
    the model followed a lead byte with something else) is dropped, never shown as U+FFFD.
    """

    def __init__(self, stops: tuple[str, ...] = ()) -> None:
        # "ignore", not "replace": the incremental decoder holds a trailing incomplete
        # character either way; the error mode only decides what a broken or final fragment
        # becomes, and a partial character is not text the model wrote.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
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
        """Release whatever is held (the sequence ended without a stop sequence); the bytes
        of a character the sequence ended inside are dropped."""
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
