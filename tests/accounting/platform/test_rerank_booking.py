"""/v1/rerank goes through the gate and ledger as embeddings do: allow-list, quota, a usage
row with the tokens the embedding model read, the key's balance debited."""

from __future__ import annotations

from tests.accounting.platform.conftest import FAKE_MODEL, Platform, settled_usage

RERANK_MODEL = "multilingual-e5-small-rerank"


def test_rerank_is_admitted_and_booked(sqlite_platform: Platform) -> None:
    platform = sqlite_platform
    body = {"model": RERANK_MODEL, "query": "annual leave", "documents": ["Leave is 15 days."]}
    key = platform.new_key(quota_tokens=1)
    first = platform.as_key(key["key"], "POST", "/v1/rerank", json=body)
    assert first.status_code == 200, first.text
    tokens = first.json()["usage"]["total_tokens"]
    assert tokens > 1
    assert settled_usage(platform, key["id"], 1)["requests"] == 1
    rows = platform.as_key(key["key"], "GET", "/v1/usage/requests").json()["data"]
    assert [
        (r["model"], r["prompt_tokens"], r["completion_tokens"], r["status"]) for r in rows
    ] == [(RERANK_MODEL, tokens, 0, 200)]
    assert platform.as_key(key["key"], "GET", "/v1/key").json()["used_tokens"] == tokens
    refused = platform.as_key(key["key"], "POST", "/v1/rerank", json=body)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "insufficient_quota"

    narrow = platform.new_key(allowed_models=[FAKE_MODEL])
    denied = platform.as_key(narrow["key"], "POST", "/v1/rerank", json=body)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "model_not_allowed"
