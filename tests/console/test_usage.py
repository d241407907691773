"""Usage: charts of tokens and cost by day (a series per model), totals by model, and the
table of recent requests; an admin sees every key, another key only its own."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import expect

from tests.console.conftest import Console

MODEL = "smollm2-135m-instruct"
TOTALS = re.compile(r"[1-9]\d* requests? · [1-9]\d* tokens · cost \d+\.\d+")


def chat(console: Console, key: str) -> dict[str, int]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    response = httpx.post(
        console.server.api_url + "/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    usage: dict[str, int] = response.json()["usage"]
    return usage


def new_key(console: Console) -> str:
    response = httpx.post(
        console.server.base_url + "/admin/keys",
        json={"name": f"usage-{uuid.uuid4().hex[:6]}", "owner": f"o-{uuid.uuid4().hex[:6]}"},
        headers={"Authorization": f"Bearer {console.server.admin_key}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def test_admin_sees_charts_totals_by_model_and_recent_requests(console: Console) -> None:
    page = console.page
    chat(console, console.server.admin_key)
    console.sign_in()
    console.open("usage")
    for chart in ("chart-tokens", "chart-cost"):
        expect(page.get_by_test_id(chart).locator("canvas")).to_have_count(1)
        expect(page.get_by_test_id(chart)).to_contain_text(MODEL)  # the series' legend
    expect(page.get_by_test_id("usage-by-model")).to_contain_text(MODEL)
    recent = page.get_by_test_id("request-row").first
    expect(recent).to_contain_text(MODEL)
    expect(recent).to_contain_text("200")
    expect(recent).to_contain_text(" ms")
    expect(page.get_by_test_id("usage-totals")).to_have_text(TOTALS)


def test_a_key_sees_only_its_own_usage(console: Console) -> None:
    page = console.page
    key = new_key(console)
    usage = chat(console, key)
    console.sign_in(key)
    console.open("usage")
    rows = page.get_by_test_id("request-row")
    expect(rows).to_have_count(1)
    tokens = f"{usage['prompt_tokens']} + {usage['completion_tokens']}"
    expect(rows.first).to_contain_text(tokens)
    expect(page.get_by_test_id("usage-totals")).to_contain_text(
        f"1 request · {usage['total_tokens']} tokens"
    )
