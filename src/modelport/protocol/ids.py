"""Identifiers of requests, completions and ledger rows: unique, never secret.

They are drawn from one generator per process, seeded by the OS (and seeded again in a
forked child), instead of asking the OS on every call: three `getrandom` calls per request
were a measurable share of a proxied request. Secrets (API keys, redemption codes) keep
using `secrets`.
"""

from __future__ import annotations

import os
import random
import string

_ALPHABET = string.ascii_letters + string.digits
_rng = random.Random(os.urandom(32))


def _reseed() -> None:
    _rng.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


def hex_id(nbytes: int) -> str:
    """`nbytes` random bytes as lowercase hex (as `secrets.token_hex`)."""
    return f"{_rng.getrandbits(nbytes * 8):0{nbytes * 2}x}"


def alnum_id(length: int) -> str:
    """`length` random letters or digits."""
    return "".join(_rng.choices(_ALPHABET, k=length))
