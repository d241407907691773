"""The HTTP side of the console: how its files are served, and the two endpoints it added
(test retrieval and recent requests)."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.server import RunningServer

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "src" / "modelport" / "console"
DOC = (
    "The lighthouse keeper lights the lamp at dusk every day.\n\n"
    "Visitors may climb the tower on Sundays between ten and noon.\n"
)


def client(server: RunningServer, key: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {key or server.admin_key}"},
        timeout=60,
    )


def test_console_is_served_with_a_self_only_policy(console_server: RunningServer) -> None:
    redirect = httpx.get(console_server.base_url + "/console")
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "/console/"
    page = httpx.get(console_server.base_url + "/console/")
    assert page.status_code == 200
    assert '<script type="module" src="js/main.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = httpx.get(console_server.base_url + "/console/js/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    chart_lib = httpx.get(console_server.base_url + "/console/vendor/uplot/uPlot.esm.js")
    assert chart_lib.status_code == 200
    assert httpx.get(console_server.base_url + "/console/vendor/uplot/LICENSE").status_code == 200


def test_console_files_load_nothing_from_elsewhere() -> None:
    own = [p for p in CONSOLE_DIR.rglob("*") if p.suffix in {".html", ".js", ".css"}]
    own = [p for p in own if "vendor" not in p.parts]
    assert len(own) > 10
    remote = re.compile(r"""(src|href|import|from|url)\s*[=(]?\s*["'](https?:)?//""")
    for path in own:
        assert not remote.search(path.read_text()), path


def _wait_online(http: httpx.Client, kb_id: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        files = http.get(f"/v1/kbs/{kb_id}/files").json()["data"]
        if files and all(f["status"] == "online" for f in files):
            return
        assert all(f["status"] != "fail" for f in files), files
        time.sleep(0.2)
    pytest.fail("ingestion did not finish")


def test_kb_search_returns_scored_passages_of_the_owner_only(console_server: RunningServer) -> None:
    with client(console_server) as http:
        uploaded = http.post(
            "/v1/files",
            files={"file": ("lighthouse.txt", DOC.encode(), "text/plain")},
            data={"purpose": "knowledge-base"},
        )
        assert uploaded.status_code == 200, uploaded.text
        split = {"chunk_max_len": 80, "chunk_overlap_len": 0}
        kb = http.post("/v1/kbs", json={"name": "search", "split_config": split}).json()
        attached = http.post(
            f"/v1/kbs/{kb['id']}/files", json={"file_ids": [uploaded.json()["id"]]}
        )
        assert attached.status_code == 200, attached.text
        _wait_online(http, kb["id"])

        found = http.post(f"/v1/kbs/{kb['id']}/search", json={"query": "When can visitors climb?"})
        assert found.status_code == 200, found.text
        body = found.json()
        assert body["pending_files"] == 0
        first = body["data"][0]
        assert "Sundays" in first["content"]
        assert first["filename"] == "lighthouse.txt"
        # The score is the passage's relevance (its script-adjusted cosine), above the floor.
        assert all(0.79 <= hit["score"] <= 1.0 for hit in body["data"]), body["data"]
        one = http.post(f"/v1/kbs/{kb['id']}/search", json={"query": "lamp", "top_k": 1})
        assert len(one.json()["data"]) == 1
        empty = http.post(f"/v1/kbs/{kb['id']}/search", json={"query": ""})
        assert empty.status_code == 400
        owner = f"other-{uuid.uuid4().hex[:6]}"
        stranger = http.post("/admin/keys", json={"name": "s", "owner": owner}).json()["key"]
    with client(console_server, stranger) as other:
        hidden = other.post(f"/v1/kbs/{kb['id']}/search", json={"query": "lamp"})
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "knowledge_base_not_found"


def test_recent_requests_are_newest_first_and_scoped(console_server: RunningServer) -> None:
    with client(console_server) as admin:
        user_key = admin.post("/admin/keys", json={"name": "recent"}).json()
    answered: list[dict[str, float]] = []
    with client(console_server, user_key["key"]) as user:
        for text in ("one", "two"):
            body = {
                "model": "smollm2-135m-instruct",
                "messages": [{"role": "user", "content": text}],
                "max_tokens": 2,
            }
            started = time.monotonic()
            reply = user.post("/v1/chat/completions", json=body)
            assert reply.status_code == 200, reply.text
            answered.append(
                {**reply.json()["usage"], "waited_ms": (time.monotonic() - started) * 1000}
            )
        bad = user.post("/v1/chat/completions", json={**body, "model": "no-such-model"})
        assert bad.status_code == 404
        own = user.get("/v1/usage/requests").json()["data"]
        assert user.get("/admin/usage/requests").status_code == 403
    assert [r["key_id"] for r in own] == [user_key["id"]] * len(own)
    assert [r["status"] for r in own] == [200, 200]  # an unknown model books no row
    assert own == sorted(own, key=lambda r: r["created_at"], reverse=True)
    # The two answers, newest first, each with the usage it reported and the server's time.
    for row, usage in zip(own, reversed(answered), strict=True):
        assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"]) == (
            usage["prompt_tokens"],
            usage["completion_tokens"],
            usage["total_tokens"],
        )
        assert 0 < row["latency_ms"] <= usage["waited_ms"]
    with client(console_server) as admin:
        everyone = admin.get("/admin/usage/requests", params={"limit": 500}).json()["data"]
        one_key = admin.get("/admin/usage/requests", params={"key_id": user_key["id"]}).json()
        assert admin.get("/v1/usage/requests", params={"limit": 0}).status_code == 400
    assert {r["request_id"] for r in own} <= {r["request_id"] for r in everyone}
    assert one_key["data"] == own
