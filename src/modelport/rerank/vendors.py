"""Rerank vendors' wire: Jina (`/v1/rerank`), Cohere (`/v2/rerank`) and OpenAI-compatible
resellers that copy Jina's shape (SiliconFlow and others, under their `/v1`).

Each turns our request into the vendor's call and its answer into (document index, score)
pairs plus the tokens it billed. An answer is the vendor's word: indices outside the
request, repeated indices, scores that are not finite numbers are refused as malformed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..protocol.rerank import RerankRequest
from ..providers.errors import UpstreamError, malformed, upstream_error
from ..providers.redact import redact
from ..settings import ChannelConfig

DEFAULT_BASE = {"jina": "https://api.jina.ai/v1", "cohere": "https://api.cohere.com/v2"}
VENDOR_NAMES = {"jina": "Jina", "cohere": "Cohere", "openai_compat": "the rerank upstream"}
RERANK_PROVIDERS = frozenset(VENDOR_NAMES)


@dataclass(frozen=True, slots=True)
class RerankCall:
    url: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Ranking:
    scores: list[tuple[int, float]]  # (index in the request's documents, relevance score)
    tokens: int | None  # what the vendor billed, when it says


def call(channel: ChannelConfig, request: RerankRequest, key: str) -> RerankCall:
    base = (channel.base_url or DEFAULT_BASE.get(channel.provider, "")).rstrip("/")
    body: dict[str, Any] = {
        "model": channel.upstream_model or request.model,
        "query": request.query,
        "documents": request.texts(),
    }
    if request.top_n is not None:
        body["top_n"] = request.keep()
    if channel.provider != "cohere":  # Cohere v2 never returns documents
        body["return_documents"] = False  # we hold the texts already
    return RerankCall(f"{base}/rerank", body, {"Authorization": f"Bearer {key}"})


def ranking(provider: str, data: Any, request: RerankRequest) -> Ranking:
    vendor = VENDOR_NAMES[provider]
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise malformed(vendor, "no results list")
    seen: set[int] = set()
    scores: list[tuple[int, float]] = []
    for item in results:
        index = item.get("index") if isinstance(item, dict) else None
        score = item.get("relevance_score") if isinstance(item, dict) else None
        if not isinstance(index, int) or isinstance(index, bool):
            raise malformed(vendor, "a result without an integer index")
        if not 0 <= index < len(request.documents) or index in seen:
            raise malformed(vendor, f"a result for document {index}, not in the request")
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise malformed(vendor, "a result without a numeric relevance_score")
        if not math.isfinite(score):
            raise malformed(vendor, "a relevance_score that is not a finite number")
        seen.add(index)
        scores.append((index, float(score)))
    scores.sort(key=lambda pair: (-pair[1], pair[0]))
    return Ranking(scores[: request.keep()], _billed_tokens(data))


def _billed_tokens(data: dict[str, Any]) -> int | None:
    usage = data.get("usage") or data.get("tokens") or {}
    meta = data.get("meta") or {}
    candidates = [
        usage.get("total_tokens") if isinstance(usage, dict) else None,
        usage.get("input_tokens") if isinstance(usage, dict) else None,
        (meta.get("tokens") or {}).get("input_tokens") if isinstance(meta, dict) else None,
    ]
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def error_from(
    provider: str, status: int, raw: bytes, headers: Mapping[str, str], *, secrets: list[str]
) -> UpstreamError:
    """The vendor's error message (`detail` for Jina, `message` for Cohere), its secrets
    redacted, under our status for its status."""
    vendor = VENDOR_NAMES[provider]
    text = raw.decode("utf-8", "replace")[:2000]
    try:
        data = orjson.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict):
        found = data.get("detail") or data.get("message") or data.get("error")
        if isinstance(found, dict):
            found = found.get("message")
        if isinstance(found, str):
            text = found
    message = f"{vendor} answered {status}: {redact(text, secrets)}"
    return upstream_error(status, message, headers=headers)
