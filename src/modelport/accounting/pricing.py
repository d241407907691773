"""What a request costs: the catalogue's price per 1,000 tokens times the caller's multiplier
(`KeyRecord.price_multiplier`: its account group's ratio times the key's `group_multiplier`).

Cached prompt tokens (the vendor's prompt cache) cost `cached_prompt` (unset: the prompt
price): (prompt - cached) x prompt + cached x cached_prompt + completion x completion.

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
def _rates(
    prompt: float, completion: float, cached: float, multiplier: float
) -> tuple[Decimal, Decimal, Decimal]:
    """Micro-units per prompt, completion and cached prompt token (exact decimals of the given
    floats)."""
    factor = _PER_TOKEN * Decimal(str(multiplier))
    return (
        Decimal(str(prompt)) * factor,
        Decimal(str(completion)) * factor,
        Decimal(str(cached)) * factor,
    )


def cost_micros(
    price: Price,
    prompt_tokens: int,
    completion_tokens: int,
    multiplier: float = 1.0,
    searches: int = 0,
    cached_tokens: int = 0,
) -> int:
    """The cost of one request in micro-units (tokens, of which `cached_tokens` of the prompt
    at `cached_prompt`, plus web searches at `per_search`)."""
    cached_price = price.prompt if price.cached_prompt is None else price.cached_prompt
    if not (price.prompt or price.completion or cached_price or (searches and price.per_search)):
        return 0  # free (the default): no decimal arithmetic on every request
    per_prompt, per_completion, per_cached = _rates(
        price.prompt, price.completion, cached_price, multiplier
    )
    cached = min(max(cached_tokens, 0), max(prompt_tokens, 0))
    exact = (
        per_prompt * (prompt_tokens - cached)
        + per_cached * cached
        + per_completion * completion_tokens
    )
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
