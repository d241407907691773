"""The usage page's "units" hint on rows that are not tokens, from ledger rows as the API
gives them (the request log is answered here: Midjourney rows need a Midjourney upstream,
which `test_midjourney_page.py` drives for real)."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Route, expect

from tests.console.conftest import Console


def row(model: str, provider: str, prompt: int, completion: int, cost: float) -> dict[str, Any]:
    return {
        "request_id": f"req-{model}-{cost}",
        "key_id": "k1",
        "model": model,
        "provider": provider,
        "status": 200,
        "error_code": None,
        "stream": False,
        "latency_ms": 12,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        # images and tasks book total_tokens 0, so token quotas are not touched
        "total_tokens": prompt + completion if provider in ("local", "deepl") else 0,
        "cost_micros": int(cost * 1_000_000),
        "cost": cost,
        "created_at": "2026-01-02T03:04:05Z",
    }


ROWS = [
    row("mj-imagine", "midjourney", 0, 1, 0.1),
    row("mj-imagine", "midjourney", 0, 1, -0.1),  # a refund
    row("mj-upscale", "midjourney", 0, 3, 0.15),
    row("gpt-image-1", "openai_images", 0, 1, 0.04),
    row("sd-xl", "sd_webui", 0, 4, 0.008),
    row("deepl-zh", "deepl", 340, 0, 0.0068),
    row("deepl-zh", "deepl", 21, 6, 0.00042),  # DeepL through chat completions
    row("smollm2-135m-instruct", "local", 12, 5, 0.0),
]
EXPECTED = [
    "1 task",
    "1 task (refund)",
    "3 tasks",
    "1 image",
    "4 images",
    "340 chars",
    "21 chars",
    None,
]


def test_product_rows_say_what_they_count(console: Console) -> None:
    page = console.page

    def answer(route: Route) -> None:
        route.fulfill(
            content_type="application/json", body=json.dumps({"object": "list", "data": ROWS})
        )

    page.route("**/admin/usage/requests*", answer)
    console.sign_in()
    console.open("usage")
    rows = page.get_by_test_id("request-row")
    expect(rows).to_have_count(len(ROWS))
    for i, units in enumerate(EXPECTED):
        hint = rows.nth(i).get_by_test_id("units")
        if units is None:
            expect(hint).to_have_count(0)
            expect(rows.nth(i)).to_contain_text("12 + 5")
        else:
            expect(hint).to_have_text(units)
    expect(rows.nth(1)).to_contain_text("-0.10")  # the cost as before
