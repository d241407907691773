"""/metrics, JSON access logs with the request id, and no secret in logs or in the database."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import asyncpg
import httpx

from modelport.accounting.keys import hash_key
from tests.accounting.platform.conftest import BROKEN_MODEL, Platform, platform_config, sse_usage
from tests.support.server import run_server


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_tokens_ttft_and_errors(sqlite_platform: Platform) -> None:
    p = sqlite_platform
    key = p.new_key()
    before = p.http.get("/metrics").text
    route = "/v1/chat/completions"
    usage = p.chat(key["key"], max_tokens=2).json()["usage"]
    failed = p.chat(key["key"], model=BROKEN_MODEL, max_tokens=2)
    assert failed.status_code == 502, failed.text  # nothing listens: the connection is refused
    assert failed.json()["error"]["code"] == "upstream_connection_error"
    with p.http.stream(
        "POST",
        route,
        json={"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers={"Authorization": f"Bearer {key['key']}"},
    ) as r:
        streamed = sse_usage(r.iter_lines())
    assert streamed is not None
    # A stream is observed when its last byte has been sent, a moment after the client has it.
    deadline = time.monotonic() + 5
    while True:
        after = p.http.get("/metrics").text
        done = _metric(after, "modelport_request_duration_seconds_count", route=route)
        if done - _metric(before, "modelport_request_duration_seconds_count", route=route) >= 3:
            break
        assert time.monotonic() < deadline, "the requests were not observed"
        time.sleep(0.05)

    def delta(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert delta("modelport_requests_total", route=route, status="200") == 2
    assert delta("modelport_requests_total", route=route, status="502") == 1
    assert delta("modelport_request_duration_seconds_count", route=route) == 3
    assert delta("modelport_time_to_first_token_seconds_count", route=route) == 1
    # Exactly the two answers' tokens (the refused call produced none).
    for direction, field in (("in", "prompt_tokens"), ("out", "completion_tokens")):
        expected = usage[field] + streamed[field]
        assert delta("modelport_tokens_total", direction=direction) == expected, direction
    errors = delta(
        "modelport_errors_total",
        model=BROKEN_MODEL,
        channel=f"{BROKEN_MODEL}#0",
        code="upstream_connection_error",
    )
    assert errors == 1
    assert "modelport_engine_queue_depth" in after


def test_json_logs_carry_the_request_id(sqlite_platform: Platform) -> None:
    p = sqlite_platform
    response = p.admin("GET", "/v1/key", headers={"X-Request-ID": "trace-abc-123"})
    assert response.headers["x-request-id"] == "trace-abc-123"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in p.server.log().splitlines() if x.startswith("{")]
        mine = [x for x in lines if x.get("request_id") == "trace-abc-123"]
        if mine:
            break
        time.sleep(0.05)
    assert mine and mine[0]["logger"] == "modelport.access" and mine[0]["status"] == 200


def _secrets(p: Platform) -> list[str]:
    key = p.new_key()
    p.chat(key["key"], max_tokens=1)
    p.as_key(key["key"] + "x", "GET", "/v1/key")  # a wrong key is not logged either
    rotated = p.admin("POST", f"/admin/keys/{key['id']}/rotate").json()["key"]
    [code] = [
        c["code"]
        for c in p.admin(
            "POST", "/admin/redemption-codes", json={"batch": "leak", "count": 1, "tokens": 5}
        ).json()["data"]
    ]
    p.as_key(rotated, "POST", "/v1/redeem", json={"code": code})
    return [p.server.admin_key, key["key"], rotated, code]


def _assert_absent(secrets: list[str], haystack: bytes, where: str) -> None:
    for secret in secrets:
        assert secret.encode() not in haystack, f"a secret is stored in clear in {where}"
        body = secret.split("-", 1)[1].encode()
        assert body not in haystack, f"a secret's body is stored in clear in {where}"


def test_no_secret_in_logs_or_sqlite(sqlite_platform: Platform) -> None:
    p = sqlite_platform
    secrets = _secrets(p)
    _assert_absent(secrets, p.server.log_path.read_bytes(), "the log")
    files = list(p.server.data_dir.glob("modelport.db*"))
    assert files
    for path in files:
        _assert_absent(secrets, path.read_bytes(), path.name)
    assert re.search(rb"sk-[A-Za-z0-9_-]{40,}", p.server.log_path.read_bytes()) is None


def test_no_secret_in_postgresql(pg_platform: Platform) -> None:
    p = pg_platform
    secrets = _secrets(p)
    _assert_absent(secrets, p.server.log_path.read_bytes(), "the log")

    async def dump() -> bytes:
        url = p.database_url.replace("postgresql+asyncpg", "postgresql")  # type: ignore[attr-defined]
        conn = await asyncpg.connect(url)
        try:
            rows = []
            for table in ("api_keys", "redemption_codes", "usage_records"):
                rows += await conn.fetch(f"SELECT * FROM {table}")
            return repr([dict(r) for r in rows]).encode()
        finally:
            await conn.close()

    dumped = asyncio.run(dump())
    # The dump does see the rows: the rotated key's hash and the code's batch are in it.
    assert hash_key(secrets[2]).encode() in dumped and b"'leak'" in dumped
    _assert_absent(secrets, dumped, "PostgreSQL")


def test_log_level_option_silences_the_access_lines(tmp_path: Path) -> None:
    """`serve --log-level warning` quiets the app's own info lines too, not only uvicorn's."""
    config = {
        "models": [
            {
                "name": "quiet-model",
                "channels": [{"provider": "openai_compat", "base_url": "http://127.0.0.1:9/v1"}],
            }
        ]
    }
    with run_server(
        tmp_path / "quiet", config=config, extra_args=["--log-level", "warning"]
    ) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}", "X-Request-ID": "quiet-1"}
        assert httpx.get(server.api_url + "/models", headers=headers).status_code == 200
        time.sleep(0.3)
        assert "quiet-1" not in server.log() and "modelport.access" not in server.log()


def test_metrics_token_guards_metrics(tmp_path: Path, upstream_url: str) -> None:
    env = {"MODELPORT_METRICS_TOKEN": "scrape-me-0123456789"}
    with run_server(tmp_path, config=platform_config(upstream_url, local=False), env=env) as s:
        missing = httpx.get(s.base_url + "/metrics")
        wrong = httpx.get(s.base_url + "/metrics", headers={"Authorization": "Bearer nope"})
        # An API key is not the metrics token.
        admin = httpx.get(
            s.base_url + "/metrics", headers={"Authorization": f"Bearer {s.admin_key}"}
        )
        right = httpx.get(
            s.base_url + "/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}
        )
    for refused in (missing, wrong, admin):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_metrics_token"
    assert right.status_code == 200 and "modelport_requests_total" in right.text
