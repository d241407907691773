"""Usage queries: by key, model and day for the admin, a key's own for its owner; the totals
equal the responses' usage exactly."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from tests.accounting.platform.conftest import FAKE_MODEL, LOCAL_MODEL, Platform, settled_usage


def test_usage_matches_the_responses(platform: Platform) -> None:
    owner = "owner-" + secrets.token_hex(4)
    keys = [platform.new_key(owner=owner) for _ in range(2)]
    sent: dict[tuple[str, str], list[int]] = {}
    plan = [
        (keys[0], FAKE_MODEL, 5),
        (keys[0], FAKE_MODEL, 2),
        (keys[1], FAKE_MODEL, 9),
        (keys[1], LOCAL_MODEL, 2),
    ]
    for i, (key, model, words) in enumerate(plan):
        content = " ".join(["word"] * (i + 1))
        response = platform.chat(
            key["key"],
            model=model,
            max_tokens=words if model == FAKE_MODEL else 2,
            messages=[{"role": "user", "content": content}],
        )
        assert response.status_code == 200, response.text
        usage = response.json()["usage"]
        row = sent.setdefault((key["id"], model), [0, 0, 0, 0])
        for j, name in enumerate(["prompt_tokens", "completion_tokens", "total_tokens"]):
            row[j] += usage[name]
        row[3] += 1

    report = platform.admin(
        "GET", "/admin/usage", params={"owner": owner, "group_by": "key,model,day"}
    ).json()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    got = {
        (r["key_id"], r["model"]): [
            r["prompt_tokens"],
            r["completion_tokens"],
            r["total_tokens"],
            r["requests"],
        ]
        for r in report["data"]
    }
    assert got == sent
    assert {r["day"] for r in report["data"]} == {today}
    assert report["totals"]["total_tokens"] == sum(v[2] for v in sent.values())
    assert report["totals"]["cost_micros"] == sum(r["cost_micros"] for r in report["data"])

    own = platform.as_key(keys[1]["key"], "GET", "/v1/usage", params={"group_by": "model"}).json()
    assert {r["model"]: r["total_tokens"] for r in own["data"]} == {
        model: v[2] for (key_id, model), v in sent.items() if key_id == keys[1]["id"]
    }
    by_day = platform.admin(
        "GET", "/admin/usage", params={"owner": owner, "group_by": "day"}
    ).json()
    assert [r["total_tokens"] for r in by_day["data"]] == [report["totals"]["total_tokens"]]

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = platform.admin("GET", "/admin/usage", params={"owner": owner, "since": tomorrow})
    assert later.json()["totals"]["requests"] == 0
    bad = platform.admin("GET", "/admin/usage", params={"group_by": "week"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "group_by"


EMBEDDING_MODEL = "multilingual-e5-small"


def test_embeddings_are_admitted_and_booked(platform: Platform) -> None:
    """/v1/embeddings goes through the same gate and ledger as chat: allow-list, quota, a
    usage row with its prompt tokens, the key's balance debited."""
    body = {"model": EMBEDDING_MODEL, "input": ["Annual leave is fifteen days.", "Lunch at 2."]}
    key = platform.new_key(quota_tokens=1)
    first = platform.as_key(key["key"], "POST", "/v1/embeddings", json=body)
    assert first.status_code == 200, first.text
    tokens = first.json()["usage"]["prompt_tokens"]
    assert tokens > 1
    assert settled_usage(platform, key["id"], 1)["requests"] == 1
    rows = platform.as_key(key["key"], "GET", "/v1/usage/requests").json()["data"]
    assert [
        (r["model"], r["prompt_tokens"], r["completion_tokens"], r["status"]) for r in rows
    ] == [(EMBEDDING_MODEL, tokens, 0, 200)]
    assert platform.as_key(key["key"], "GET", "/v1/key").json()["used_tokens"] == tokens
    refused = platform.as_key(key["key"], "POST", "/v1/embeddings", json=body)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "insufficient_quota"

    narrow = platform.new_key(allowed_models=[FAKE_MODEL])
    denied = platform.as_key(narrow["key"], "POST", "/v1/embeddings", json=body)
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "model_not_allowed"
