"""The gate before any upstream call: model and knowledge-base allow-lists, quota, rate limits.

Checks run cheapest first and the rate limiter last, so that a request refused for another
reason never takes a slot of the key's window. After the call, `cost` prices the usage and
`settle` feeds the tokens to the TPM window.
"""

from __future__ import annotations

import logging
import math

from ..protocol.errors import APIError
from ..settings import ModelConfig
from .keys import KeyRecord, KeyStore
from .pricing import cost_micros
from .ratelimit import Decision, RateLimiter

log = logging.getLogger("modelport.accounting")


def quota_exhausted(key: KeyRecord) -> bool:
    if key.quota_tokens is not None and key.used_tokens >= key.quota_tokens:
        return True
    return key.quota_micros is not None and key.used_micros >= key.quota_micros


def insufficient_quota() -> APIError:
    return APIError(
        429,
        "You exceeded your current quota, please top up your key (POST /v1/redeem) "
        "or ask your administrator for more.",
        type="insufficient_quota",
        code="insufficient_quota",
    )


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
    def __init__(self, keys: KeyStore, limiter: RateLimiter) -> None:
        self.keys = keys
        self.limiter = limiter

    async def admit(self, key: KeyRecord | None, model: str, kb_ids: list[str]) -> None:
        """Raises the client's error when the key may not make this request now."""
        if key is None:
            return
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
                raise APIError(
                    403,
                    f"This key is not allowed to use the knowledge bases {denied}.",
                    type="permission_error",
                    code="knowledge_base_not_allowed",
                )
        if key.has_quota:
            fresh = await self.keys.get(key.id)  # balances are never taken from the cache
            if fresh is None or quota_exhausted(fresh):
                raise insufficient_quota()
        if key.rpm is not None or key.tpm is not None:
            decision = await self.limiter.admit(key.id, key.rpm, key.tpm)
            if not decision.allowed:
                raise rate_limited(key, decision)

    def cost(self, key: KeyRecord | None, model: ModelConfig, prompt: int, completion: int) -> int:
        multiplier = 1.0 if key is None else key.group_multiplier
        return cost_micros(model.price, prompt, completion, multiplier)

    async def settle(self, key: KeyRecord | None, tokens: int) -> None:
        """Counts the tokens against the key's TPM; after the answer, so faults are logged."""
        if key is None or key.tpm is None:
            return
        try:
            await self.limiter.add_tokens(key.id, tokens)
        except Exception:
            log.exception("could not count %d tokens of %s against its TPM", tokens, key.id)

    async def aclose(self) -> None:
        await self.limiter.aclose()
