"""Quotas in tokens and currency: refused before any upstream call; cost on every usage row;
streams debited with what they produced, also when the client walks away."""

from __future__ import annotations

import json
from typing import Any

import httpx

from modelport.accounting.pricing import cost_micros, to_micros
from modelport.settings import Price
from tests.accounting.platform.conftest import LOCAL_MODEL, PRICE, Platform, settled_usage


def test_pricing_is_exact_in_micro_units() -> None:
    price = Price(prompt=0.5, completion=1.5)
    assert cost_micros(price, 2, 3) == 2 * 500 + 3 * 1500
    assert cost_micros(price, 2, 3, multiplier=2.0) == 11_000
    assert cost_micros(Price(prompt=0.0001), 1, 0) == 0  # 0.1 micro rounds to 0
    assert cost_micros(Price(prompt=0.0015), 1, 0) == 2  # 1.5 micros round half up
    assert to_micros(0.1) + to_micros(0.2) == to_micros(0.3)


def _requests(app: Any) -> int:
    return len(app.state.requests)


def test_token_quota_refuses_before_upstream(platform: Platform, upstream_app: Any) -> None:
    key = platform.new_key(quota_tokens=4)
    first = platform.chat(key["key"], max_tokens=3)
    assert first.status_code == 200  # 2 + 3 tokens: the last request may overdraw
    before = _requests(upstream_app)
    refused = platform.chat(key["key"], max_tokens=3)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "insufficient_quota"
    assert refused.json()["error"]["type"] == "insufficient_quota"
    assert _requests(upstream_app) == before
    info = platform.as_key(key["key"], "GET", "/v1/key").json()
    assert info["used_tokens"] == first.json()["usage"]["total_tokens"]


def test_currency_quota_and_cost_with_multiplier(platform: Platform) -> None:
    key = platform.new_key(quota=0.015, group_multiplier=2.0)
    usage = platform.chat(key["key"], max_tokens=3).json()["usage"]
    expected = 2 * int(
        usage["prompt_tokens"] * PRICE["prompt"] * 1000
        + usage["completion_tokens"] * PRICE["completion"] * 1000
    )
    report = platform.admin("GET", "/admin/usage", params={"key_id": key["id"]}).json()
    assert report["totals"]["cost_micros"] == expected
    info = platform.as_key(key["key"], "GET", "/v1/key").json()
    assert info["used_micros"] == expected
    assert platform.chat(key["key"], max_tokens=3).status_code == 200  # 11,000 of 15,000 used
    refused = platform.chat(key["key"], max_tokens=3)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "insufficient_quota"


def test_stream_is_debited_with_its_usage(platform: Platform) -> None:
    key = platform.new_key(quota_tokens=10_000)
    body = {
        "model": LOCAL_MODEL,
        "messages": [{"role": "user", "content": "Count to ten."}],
        "max_tokens": 3,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"Authorization": f"Bearer {key['key']}"}
    usage = None
    with platform.http.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                usage = json.loads(line[6:]).get("usage") or usage
    assert usage is not None
    totals = settled_usage(platform, key["id"], 1)
    assert totals["total_tokens"] == usage["total_tokens"]
    info = platform.as_key(key["key"], "GET", "/v1/key").json()
    assert info["used_tokens"] == usage["total_tokens"]
    assert info["used_micros"] == totals["cost_micros"] > 0


def test_abandoned_stream_is_debited_with_what_it_produced(platform: Platform) -> None:
    key = platform.new_key(quota_tokens=10_000)
    body = {
        "model": LOCAL_MODEL,
        "messages": [{"role": "user", "content": "Write a long story about the sea."}],
        "max_tokens": 200,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {key['key']}"}
    with (
        httpx.Client(base_url=platform.server.base_url, timeout=30) as client,
        client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r,
    ):
        seen = 0
        for line in r.iter_lines():
            seen += line.startswith("data: {")
            if seen >= 3:
                break  # leave mid-stream
    totals = settled_usage(platform, key["id"], 1)
    assert totals["requests"] == 1
    assert 2 <= totals["completion_tokens"] < 200
    assert totals["prompt_tokens"] > 0
    info = platform.as_key(key["key"], "GET", "/v1/key").json()
    assert info["used_tokens"] == totals["total_tokens"]
    assert info["used_micros"] == totals["cost_micros"]
