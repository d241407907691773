"""Whether a multi-token step should take every core, learned from how fast each width ran."""

from __future__ import annotations

# A one-token step runs on one thread whatever the width.
_MIN_TOKENS = 2


class StepWidth:
    """Spreading a batch (a prompt chunk, or one token of each of several streams) over every
    core with OpenMP nearly halves its time on an idle machine, but is several times slower
    (measured here, prefill: 260 vs 140 tokens/s on 2 cores, then 40 under load) when other
    processes want the cores, because its threads spin-wait at every operation's barrier. So
    both widths are timed (ms per token, moving average) and the faster one is used, trying
    the other again every `probe_every` decisions.
    """

    def __init__(self, probe_every: int = 50, smoothing: float = 0.3) -> None:
        self.probe_every = probe_every
        self.smoothing = smoothing
        self.ms_per_token: dict[bool, float | None] = {True: None, False: None}
        self._decisions = 0

    def choose(self) -> bool:
        """True: run this step wide."""
        self._decisions += 1
        wide, narrow = self.ms_per_token[True], self.ms_per_token[False]
        if wide is None:
            return True
        if narrow is None:
            return False
        faster = wide < narrow
        return not faster if self._decisions % self.probe_every == 0 else faster

    def record(self, wide: bool, seconds: float, tokens: int) -> None:
        if tokens < _MIN_TOKENS:
            return
        ms = seconds * 1000 / tokens
        old = self.ms_per_token[wide]
        self.ms_per_token[wide] = ms if old is None else old + self.smoothing * (ms - old)
