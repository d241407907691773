"""Cached prompt tokens and reasoning tokens are booked on the usage row, and the row's cost
prices the cached ones at the model's `cached_prompt` price (SQLite)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from modelport.accounting.pricing import cost_micros
from modelport.settings import Price
from tests.accounting.platform.conftest import Platform, settled_usage
from tests.fakes.server import serve_asgi
from tests.support.server import run_server

# Per 1,000 tokens: 500 / 1500 / 100 micro-units a token.
PRICE = {"prompt": 0.5, "completion": 1.5, "cached_prompt": 0.1}
# The fake reports 10 prompt tokens (6 cached) and 5 completion tokens (3 reasoning).
COST = 4 * 500 + 6 * 100 + 5 * 1500


def test_cost_prices_cached_tokens_apart() -> None:
    price = Price(**PRICE)
    assert cost_micros(price, 10, 5, cached_tokens=6) == COST
    assert cost_micros(Price(prompt=0.5, completion=1.5), 10, 5, cached_tokens=6) == 12_500
    assert cost_micros(price, 10, 5, cached_tokens=60) == 10 * 100 + 5 * 1500  # bounded
    assert cost_micros(Price(cached_prompt=0.1), 10, 0, cached_tokens=6) == 600


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    from tests.fakes.openai_reasoning import create_app

    with serve_asgi(create_app()) as url:
        channel = {"provider": "openai_compat", "base_url": url + "/v1", "api_key": "sk-1"}
        model = {
            "name": "thinker",
            "price": PRICE,
            "channels": [channel | {"upstream_model": "deepseek-reasoner"}],
        }
        data = tmp_path_factory.mktemp("cached-pricing")
        with run_server(data, config={"models": [model]}) as running:
            yield Platform(running)


@pytest.mark.parametrize("stream", [False, True])
def test_cached_tokens_booked_and_priced(platform: Platform, stream: bool) -> None:
    key = platform.new_key()
    why = [{"role": "user", "content": "why"}]  # "Thinking about why." + "Answer: why"
    response = platform.chat(key["key"], model="thinker", stream=stream, messages=why)
    assert response.status_code == 200, response.text
    if not stream:
        usage = response.json()["usage"]
        assert usage["prompt_tokens_details"] == {"cached_tokens": 6}
        assert usage["completion_tokens_details"] == {"reasoning_tokens": 3}
    totals = settled_usage(platform, key["id"], 1)
    assert totals["cost_micros"] == COST
    assert (totals["cached_tokens"], totals["reasoning_tokens"]) == (6, 3)  # the usage report
    with sqlite3.connect(platform.server.data_dir / "modelport.db") as conn:
        row = conn.execute(
            "SELECT prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens,"
            " cost_micros FROM usage_records WHERE key_id = ?",
            (key["id"],),
        ).fetchone()
    assert row == (10, 5, 6, 3, COST)
