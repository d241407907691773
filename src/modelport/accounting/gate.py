"""The gate before any upstream call: model and knowledge-base allow-lists, quota, rate limits.

Checks run cheapest first and the rate limiter last, so that a request refused for another
reason never takes a slot of the key's window. A key with a quota holds the request's worst
case (`reservations.py`) until its usage row is written. After the call, `cost` prices the
usage and `settle` shrinks the hold to it and feeds the tokens to the TPM window.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from ..protocol.errors import APIError
from ..settings import ModelConfig, Price
from .keys import KeyRecord
from .pricing import cost_micros
from .ratelimit import Decision, RateLimiter
from .reservations import Hold, Reservations

log = logging.getLogger("modelport.accounting")


def insufficient_quota() -> APIError:
    return APIError(
        429,
        "You exceeded your current quota, please top up your key (POST /v1/redeem) "
        "or ask your administrator for more.",
        type="insufficient_quota",
        code="insufficient_quota",
    )


def quota_held() -> APIError:
    """429 for a key whose quota is not spent but held by its requests in flight."""
    return APIError(
        429,
        "Your quota is held by requests in flight (each holds its max_tokens until it ends); "
        "please retry when they finish, or set a lower max_tokens.",
        type="insufficient_quota",
        code="quota_held",
        headers={"Retry-After": "1"},
    )


def kb_refused(message: str) -> APIError:
    """403 for a knowledge base the key's allow-list keeps it from."""
    return APIError(403, message, type="permission_error", code="knowledge_base_not_allowed")


def kb_not_allowed(denied: Sequence[str]) -> APIError:
    """The same refusal in chat and on every knowledge-base route."""
    return kb_refused(f"This key is not allowed to use the knowledge bases {list(denied)}.")


def rate_limited(key: KeyRecord, decision: Decision) -> APIError:
    retry = max(1, math.ceil(decision.retry_after))
    if decision.limit == "tokens":
        what = f"tokens per min (TPM): Limit {key.tpm}"
    else:
        what = f"requests per min (RPM): Limit {key.rpm}"
    return APIError(
        429,
        f"Rate limit reached for {key.id} on {what}. Please try again in {retry}s.",
        type=decision.limit or "requests",
        code="rate_limit_exceeded",
        headers={"Retry-After": str(retry)},
    )


class Gate:
    def __init__(self, reservations: Reservations, limiter: RateLimiter) -> None:
        self.reservations = reservations
        self.limiter = limiter

    async def admit(
        self, key: KeyRecord | None, model: str, kb_ids: list[str], hold: Hold | None = None
    ) -> str | None:
        """Raises the client's error when the key may not make this request now; else returns
        the id of the quota hold taken for it (None: the key has no quota), which the request's
        usage row releases."""
        if key is None:
            return None
        if key.allowed_models is not None and model not in key.allowed_models:
            raise APIError(
                403,
                f"This key is not allowed to use the model `{model}`.",
                type="permission_error",
                param="model",
                code="model_not_allowed",
            )
        if key.allowed_kbs is not None:
            denied = [kb for kb in kb_ids if kb not in key.allowed_kbs]
            if denied:
                raise kb_not_allowed(denied)
        reservation = None
        if key.has_quota:
            user = key.user_id if key.user_limited else None
            reservation = await self.reservations.reserve(key.id, hold or Hold(0, 0), user)
            if reservation is None:
                spent = await self.reservations.spent(key.id)
                raise insufficient_quota() if spent else quota_held()
        if key.rpm is not None or key.tpm is not None:
            try:
                decision = await self.limiter.admit(key.id, key.rpm, key.tpm)
            except Exception:
                # Fail open: an unreachable Redis must not take the API down; quotas still hold.
                log.exception("rate limiter unavailable; admitting %s unchecked", key.id)
                return reservation
            if not decision.allowed:
                await self.release(reservation)
                raise rate_limited(key, decision)
        return reservation

    def hold(
        self,
        key: KeyRecord | None,
        model: ModelConfig,
        prompt: int,
        completion: int,
        searches: int = 0,
    ) -> Hold:
        """A request's worst case as a quota hold: tokens, and their price."""
        return Hold(prompt + completion, self.cost(key, model, prompt, completion, searches))

    async def grow(self, reservation: str | None, key: KeyRecord | None, extra: Hold) -> None:
        """Adds to an admitted request's hold what it turned out to carry."""
        if reservation is not None and key is not None:
            await self.reservations.grow(reservation, key.id, extra)

    async def release(self, reservation: str | None) -> None:
        """Gives back the hold of a request that ends without a usage row."""
        if reservation is not None:
            await self.reservations.release([reservation])

    def cost(
        self,
        key: KeyRecord | None,
        model: ModelConfig,
        prompt: int,
        completion: int,
        searches: int = 0,
        cached: int = 0,
        price: Price | None = None,
    ) -> int:
        """What a request cost: at `price` when the channel that served it sets its own
        (a channel's price override), else at the model's; times the caller's
        `price_multiplier` (its account group's ratio times the key's `group_multiplier`)."""
        multiplier = 1.0 if key is None else key.price_multiplier
        return cost_micros(price or model.price, prompt, completion, multiplier, searches, cached)

    async def settle(
        self, key: KeyRecord | None, tokens: int, micros: int = 0, reservation: str | None = None
    ) -> None:
        """A finished request: its quota hold shrinks to what it spent (until its usage row,
        which the ledger writes, releases it), and its tokens go to the key's TPM window.
        After the answer was given, so faults are logged, not raised."""
        if key is None:
            return
        if reservation is not None:
            await self.reservations.settle(reservation, key.id, Hold(tokens, micros))
        if key.tpm is None:
            return
        try:
            await self.limiter.add_tokens(key.id, tokens)
        except Exception:
            log.exception("could not count %d tokens of %s against its TPM", tokens, key.id)

    async def aclose(self) -> None:
        await self.reservations.aclose()
        await self.limiter.aclose()
