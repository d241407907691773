"""What a request costs: the catalogue's price per 1,000 tokens times the key's group multiplier.

Money is kept in integer micro-units (millionths of the currency unit) so that sums over the
ledger are exact; each request's cost is rounded half-up to the nearest micro-unit once.
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal

from ..settings import Price

MICROS_PER_UNIT = 1_000_000
_PER_TOKEN = Decimal(MICROS_PER_UNIT) / Decimal(1000)  # prices are per 1,000 tokens


@functools.lru_cache(maxsize=1024)
def _rates(prompt: float, completion: float, multiplier: float) -> tuple[Decimal, Decimal]:
    """Micro-units per prompt and per completion token (exact decimals of the given floats)."""
    factor = _PER_TOKEN * Decimal(str(multiplier))
    return Decimal(str(prompt)) * factor, Decimal(str(completion)) * factor


def cost_micros(
    price: Price,
    prompt_tokens: int,
    completion_tokens: int,
    multiplier: float = 1.0,
    searches: int = 0,
) -> int:
    """The cost of one request in micro-units (tokens, plus web searches at `per_search`)."""
    if not (price.prompt or price.completion or (searches and price.per_search)):
        return 0  # free (the default): no decimal arithmetic on every request
    per_prompt, per_completion = _rates(price.prompt, price.completion, multiplier)
    exact = per_prompt * prompt_tokens + per_completion * completion_tokens
    if searches:
        per_search = Decimal(str(price.per_search)) * MICROS_PER_UNIT * Decimal(str(multiplier))
        exact += per_search * searches
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def to_micros(amount: float) -> int:
    """A currency amount (as given by people: 12.5) in micro-units."""
    exact = Decimal(str(amount)) * MICROS_PER_UNIT
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def from_micros(micros: int) -> float:
    return micros / MICROS_PER_UNIT
