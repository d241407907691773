"""Inputs schemathesis found that the server answered with 500; each must now be a clean 400."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


@pytest.mark.parametrize(
    "fields",
    [
        {"expires_at": "0001-01-01T00:00:00+15:59"},  # no UTC date before year 1
        {"expires_at": "9999-12-31T23:59:59-15:59"},  # ... nor after 9999
        {"quota": 7.2e16},  # 7.2e22 micro-units overflow the BIGINT column
        {"quota_tokens": 2**70},
        {"rpm": 2**40},  # an INTEGER column
        {"group_multiplier": 1e300},
    ],
)
def test_out_of_range_key_fields_are_refused(admin: httpx.Client, fields: dict[str, Any]) -> None:
    response = admin.post("/admin/keys", json={"owner": "range", **fields})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == next(iter(fields))


def test_a_code_worth_less_than_a_micro_unit_is_refused(admin: httpx.Client) -> None:
    body = {"batch": "tiny", "count": 2, "amount": 2.8e-92}
    response = admin.post("/admin/redemption-codes", json=body)
    assert response.status_code == 400, response.text
    assert "tokens or an amount" in response.json()["error"]["message"]


def test_codes_of_an_out_of_range_value_are_refused(admin: httpx.Client) -> None:
    body = {"batch": "huge", "count": 1, "tokens": 2**80}
    response = admin.post("/admin/redemption-codes", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "tokens"
    assert response.json()["error"]["code"] == "invalid_value"


def test_a_null_multiplier_on_create_means_the_default(admin: httpx.Client) -> None:
    # It used to reach the NOT NULL column, whose IntegrityError the key store took for an
    # id collision and retried forever: the request never answered.
    response = admin.post(
        "/admin/keys", json={"owner": "nul", "group_multiplier": None}, timeout=10
    )
    assert response.status_code == 201, response.text
    assert response.json()["group_multiplier"] == 1.0


def _deep(depth: int) -> Any:
    value: Any = {"type": "string"}
    for _ in range(depth):
        value = {"type": "object", "properties": {"a": value}}
    return value


@pytest.mark.parametrize("model", ["smollm2-135m-instruct", "fake-gpt"])
@pytest.mark.parametrize(("depth", "status"), [(150, 400), (12, 200)])
def test_deeply_nested_json_is_a_400_not_a_500(
    admin: httpx.Client, model: str, depth: int, status: int
) -> None:
    # 150 levels of tool schema used to pass validation and break the upstream encoder (500).
    tool = {"type": "function", "function": {"name": "f", "parameters": _deep(depth)}}
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "call f"}],
        "tools": [tool],
        "max_tokens": 2,
    }
    response = admin.post("/v1/chat/completions", json=body)
    assert response.status_code == status, response.text
    if status == 400:
        assert "deeper than" in response.json()["error"]["message"]
