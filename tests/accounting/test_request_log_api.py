"""The request log and dashboard through a real server on SQLite and on PostgreSQL: rows made
by real chat requests (channel, first token), filters, pages, isolation, CSV bytes, 400s."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.server import serve_asgi
from tests.support.stores import STORES, run_on_store

MODEL, BROKEN = "fake-gpt", "broken-gpt"
DEAD_URL = "http://127.0.0.1:9/v1"  # the discard port: connections are refused
BOM = b"\xef\xbb\xbf"
FORMULA_NAME = "=cmd|' /C calc'!A0"


def _config(upstream: str) -> dict[str, Any]:
    channel = {
        "provider": "openai_compat",
        "base_url": upstream,
        "api_key": "sk-test-1",
        "upstream_model": "gpt-upstream",
        "name": "主渠道",
    }
    return {
        "models": [
            {"name": MODEL, "price": {"prompt": 0.5, "completion": 1.5}, "channels": [channel]},
            {"name": BROKEN, "channels": [{**channel, "base_url": DEAD_URL, "name": None}]},
        ],
        "currency": "CNY",
    }


class Client:
    def __init__(self, base_url: str, admin_key: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.admin_key = admin_key

    def get(self, key: str, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers={"Authorization": f"Bearer {key}"})

    def new_key(self, name: str) -> dict[str, Any]:
        response = self.http.post(
            "/admin/keys",
            json={"name": name, "owner": name},
            headers={"Authorization": f"Bearer {self.admin_key}"},
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def chat(self, key: str, model: str = MODEL, stream: bool = False) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": "hi there"}]}
        headers = {"Authorization": f"Bearer {key}"}
        if not stream:
            return self.http.post("/v1/chat/completions", json=body, headers=headers)
        with self.http.stream(
            "POST", "/v1/chat/completions", json={**body, "stream": True}, headers=headers
        ) as response:
            response.read()
            return response


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    from tests.fakes.openai_upstream import create_app

    with serve_asgi(create_app()) as url:
        yield url + "/v1"


@pytest.fixture(scope="module", params=STORES)
def logged(
    request: pytest.FixtureRequest, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, dict[str, Any], dict[str, Any]]]:
    """A server where key `a` made a request, a stream and a failed request, and `b` one."""
    data: Path = tmp_path_factory.mktemp(f"request-log-{request.param}")
    with run_on_store(request.param, data, _config(upstream)) as server:
        client = Client(server.base_url, server.admin_key)
        a, b = client.new_key(FORMULA_NAME), client.new_key("中文密钥")
        assert client.chat(a["key"]).status_code == 200
        assert client.chat(a["key"], stream=True).status_code == 200
        assert client.chat(a["key"], model=BROKEN).status_code >= 500
        assert client.chat(b["key"]).status_code == 200
        deadline = time.monotonic() + 20  # a stream is booked a moment after [DONE]
        while len(client.get(a["key"], "/v1/usage/requests").json()["data"]) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield client, a, b


def test_rows_name_the_channel_key_and_first_token(logged: Any) -> None:
    client, a, _ = logged
    rows = client.get(a["key"], "/v1/usage/requests").json()["data"]
    assert [(r["model"], r["stream"], r["status"] >= 500) for r in rows] == [
        (BROKEN, False, True),
        (MODEL, True, False),
        (MODEL, False, False),
    ]
    failed, streamed, whole = rows
    assert (streamed["channel"], streamed["channel_name"]) == (f"{MODEL}#0", "主渠道")
    assert (failed["channel"], failed["channel_name"], failed["ttft_ms"]) == (
        f"{BROKEN}#0",
        None,
        None,
    )
    assert failed["error_code"]
    for row in (streamed, whole):
        assert 0 <= row["ttft_ms"] <= row["latency_ms"]
        assert row["key_id"] == a["id"] and row["key_name"] == FORMULA_NAME
        assert row["currency"] == "CNY" and row["cost_micros"] > 0
        assert row["cost"] == row["cost_micros"] / 1_000_000


def test_a_key_sees_only_its_own_whatever_it_asks(logged: Any) -> None:
    client, a, b = logged
    assert client.get(a["key"], "/v1/usage/requests", key_id=b["id"]).json()["data"] == []
    others = client.get(b["key"], "/v1/usage/requests", user_id="usr_someone").json()["data"]
    assert others == []
    own = client.get(b["key"], "/v1/usage/requests").json()["data"]
    assert [r["key_id"] for r in own] == [b["id"]]
    body = client.get(b["key"], "/v1/usage/requests.csv", key_id=a["id"]).content
    assert body.count(b"\r\n") == 1  # the header alone
    assert client.get(b["key"], "/admin/usage/requests").status_code == 403


def test_admin_filters_and_pages(logged: Any) -> None:
    client, a, b = logged
    admin = client.admin_key

    def ids(**params: Any) -> list[str]:
        return [
            r["request_id"]
            for r in client.get(admin, "/admin/usage/requests", **params).json()["data"]
        ]

    mine = ids(key_id=a["id"])
    assert len(mine) == 3
    assert len(ids(key_id=a["id"], status="error")) == 1
    assert ids(key_id=a["id"], status="ok") == mine[1:]
    assert ids(key_id=a["id"], stream="true") == [mine[1]]
    assert ids(channel=f"{BROKEN}#0", key_id=a["id"]) == [mine[0]]
    assert ids(model=MODEL, key_id=b["id"]) == ids(key_id=b["id"])
    assert ids(key_id=a["id"], since="2000-01-01T00:00:00", until="2000-01-02T00:00:00") == []
    seen, after = [], None
    while True:
        params = {"key_id": a["id"], "limit": 1, **({"after": after} if after else {})}
        page = client.get(admin, "/admin/usage/requests", **params).json()
        seen += [r["request_id"] for r in page["data"]]
        if not page["has_more"]:
            assert page["next"] is None
            break
        after = page["next"]
    assert seen == mine


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/admin/usage/requests", {"status": "fine"}, "status"),
        ("/admin/usage/requests", {"after": "not-a-cursor"}, "after"),
        ("/admin/usage/requests", {"since": "yesterday"}, "since"),
        ("/admin/usage/requests", {"limit": 0}, "limit"),
        ("/admin/usage/requests", {"stream": "perhaps"}, "stream"),
        ("/admin/usage/requests.csv", {"status": "9000"}, "status"),
        ("/admin/dashboard", {"tz": "Mars/Olympus"}, "tz"),
        ("/admin/dashboard", {"tz": "../../etc/passwd"}, "tz"),
        ("/admin/dashboard", {"days": 0}, "days"),
        ("/admin/dashboard", {"end": "0001-01-03", "days": 7}, "end"),
        ("/admin/usage/requests", {"since": "0001-01-01T00:00:00+05:00"}, "since"),
    ],
)
def test_bad_filters_are_400s_in_the_openai_envelope(
    logged: Any, path: str, params: dict[str, Any], param: str
) -> None:
    client, _, _ = logged
    response = client.get(client.admin_key, path, **params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and param in (error.get("param") or "")


def test_csv_export_is_excel_safe(logged: Any) -> None:
    client, a, _ = logged
    response = client.get(client.admin_key, "/admin/usage/requests.csv", key_id=a["id"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(BOM + b"time,request_id,user_id,username,key_id,key_name,")
    rows = list(csv.DictReader(io.StringIO(response.content[3:].decode("utf-8"), newline="")))
    assert len(rows) == 3
    assert {r["key_name"] for r in rows} == {"'" + FORMULA_NAME}
    assert [r["channel_name"] for r in rows] == ["", "主渠道", "主渠道"]
    assert {r["currency"] for r in rows} == {"CNY"}
    json_rows = client.get(a["key"], "/v1/usage/requests").json()["data"]
    assert [r["request_id"] for r in rows] == [r["request_id"] for r in json_rows]
    own = client.get(a["key"], "/v1/usage/requests.csv", status="error").content
    assert own.startswith(BOM) and own.count(b"\r\n") == 2


def test_dashboard_days_models_and_channel_health(logged: Any) -> None:
    client, a, _ = logged
    own = client.get(a["key"], "/v1/dashboard", tz="Asia/Shanghai", days=3).json()
    assert own["tz"] == "Asia/Shanghai" and own["currency"] == "CNY"
    assert len(own["days"]) == 3 and own["days"][-1]["date"] == own["end"]
    assert own["totals"]["requests"] == 3 == sum(d["requests"] for d in own["days"])
    assert [(m["model"], m["requests"]) for m in own["top_models"]["by_requests"]] == [
        (MODEL, 2),
        (BROKEN, 1),
    ]
    assert own["top_models"]["by_cost"][0]["model"] == MODEL
    assert own["channels"] is None
    board = client.get(client.admin_key, "/admin/dashboard", tz="Europe/Berlin").json()
    assert board["totals"]["requests"] == 4
    channels = {c["id"]: c for c in board["channels"]}
    good, bad = channels[f"{MODEL}#0"], channels[f"{BROKEN}#0"]
    assert (good["name"], good["source"], good["state"]) == ("主渠道", "config", "closed")
    assert (good["recent_requests"], good["recent_errors"], good["error_rate"]) == (3, 0, 0.0)
    assert (bad["recent_requests"], bad["recent_errors"], bad["error_rate"]) == (1, 1, 1.0)
    assert bad["last_test_at"] is None  # settings channels are never tested
