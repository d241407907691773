"""Tenant isolation: two owners' keys, and every route that takes an id (read from the app's
own OpenAPI document, so new routes are covered) tried with the other owner's ids: 404 (403
on admin routes), never the other owner's data, and the owner's data unchanged afterwards."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.server import RunningServer

from .conftest import LOCAL_MODEL

SECRET = "Alice's vault code is marigold-7431, kept under the third floorboard.\n"
ALICE_FILENAME = "alice-private-notes.txt"


@dataclass
class Tenant:
    http: httpx.Client
    key_id: str
    file_id: str
    kb_id: str
    request_id: str
    response_id: str  # a stored /v1/responses answer


def _key(admin: httpx.Client, owner: str) -> tuple[str, str]:
    response = admin.post("/admin/keys", json={"name": owner, "owner": owner})
    assert response.status_code == 201, response.text
    return response.json()["key"], response.json()["id"]


def _tenant(server: RunningServer, admin: httpx.Client, owner: str, text: str, name: str) -> Tenant:
    raw, key_id = _key(admin, owner)
    http = httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {raw}"}, timeout=60
    )
    files = {"file": (name, text.encode(), "text/plain")}
    uploaded = http.post("/v1/files", files=files, data={"purpose": "knowledge-base"})
    assert uploaded.status_code == 200, uploaded.text
    file_id = uploaded.json()["id"]
    kb_id = http.post("/v1/kbs", json={"name": f"{owner}-kb"}).json()["id"]
    assert http.post(f"/v1/kbs/{kb_id}/files", json={"file_ids": [file_id]}).is_success
    deadline = time.monotonic() + 60
    while http.get(f"/v1/kbs/{kb_id}/files").json()["data"][0]["status"] != "online":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    request_id = f"iso-{owner}-{uuid.uuid4().hex[:8]}"
    body = {"model": LOCAL_MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    chat = http.post("/v1/chat/completions", json=body, headers={"X-Request-ID": request_id})
    assert chat.status_code == 200, chat.text
    said = {"model": LOCAL_MODEL, "input": f"{text} Say hi.", "max_output_tokens": 16}
    stored = http.post("/v1/responses", json=said)
    assert stored.status_code == 200, stored.text
    return Tenant(http, key_id, file_id, kb_id, request_id, stored.json()["id"])


@pytest.fixture(scope="module")
def tenants(hard_server: RunningServer, admin: httpx.Client) -> Iterator[tuple[Tenant, Tenant]]:
    alice = _tenant(hard_server, admin, "alice", SECRET, ALICE_FILENAME)
    bob = _tenant(hard_server, admin, "bob", "Bob grows tomatoes.\n", "bob.txt")
    yield alice, bob
    alice.http.close()
    bob.http.close()


def _id_routes(server: RunningServer) -> list[tuple[str, str]]:
    document = httpx.get(server.base_url + "/openapi.json", timeout=30).json()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if "{" in path and "{model_id}" not in path  # models are public by design
    ]


def _body(path: str, bob: Tenant) -> dict[str, Any] | None:
    if path.endswith("/files") or path.endswith("/files/{file_id}"):
        return {"file_ids": [bob.file_id]}
    if path.endswith("/search"):
        return {"query": "vault code"}
    if path == "/v1/kbs/{kb_id}":
        return {"name": "taken over", "description": "by bob"}
    if path.startswith("/admin/keys/"):
        return {"owner": "bob", "quota_tokens": 1}
    return None


def _leaks(response: httpx.Response, alice: Tenant) -> bool:
    text = response.text
    # Ids bob sent may be echoed in the 404; alice's content, names and owner must not be.
    return any(s in text for s in ("marigold", ALICE_FILENAME, "alice-kb", "alice"))


def test_every_id_route_hides_the_other_owners_data(
    hard_server: RunningServer, tenants: tuple[Tenant, Tenant]
) -> None:
    alice, bob = tenants
    ids = {
        "file_id": alice.file_id,
        "kb_id": alice.kb_id,
        "key_id": alice.key_id,
        "response_id": alice.response_id,
        # An image's URL is its own credential (a signature, not a key): unsigned, refused.
        "image_id": "img-of-someone-else",
        # Midjourney is not configured here (404 in its own envelope); tasks across owners
        # are tried in tests/api/midjourney/test_submissions.py.
        "task_id": "1733616000000123456",
        "name": "a-runtime-model",  # /admin/models/{name}: admin only
        "channel_id": "ch_0123456789abcdef",  # /admin/channels/{channel_id}: admin only
        "user_id": "usr_0123456789abcdef",  # /admin/users/{user_id}(/role): admin only
        "code_id": "rc_0123456789abcdef",  # /admin/codes/{code_id}: admin only
    }
    routes = _id_routes(hard_server)
    assert len(routes) >= 15, routes  # files, kbs, kb files, search, admin keys
    tried = []
    for method, path in routes:
        url = path.format(**{name: ids[name] for name in ids if "{" + name + "}" in path})
        body = _body(path, bob)
        response = bob.http.request(method, url, json=body)
        expected = 403 if path.startswith(("/admin/", "/v1/images/files/", "/mj/image/")) else 404
        assert response.status_code == expected, (method, url, response.text)
        envelope = {"code", "description", "properties", "result"}
        assert set(response.json()) == (envelope if path.startswith("/mj/") else {"error"})
        assert not _leaks(response, alice), (method, url, response.text)
        tried.append((method, path))
    print(f"\nisolation: {len(tried)} id routes tried across owners")


def test_kb_ids_in_chat_and_lists_stay_private(tenants: tuple[Tenant, Tenant]) -> None:
    alice, bob = tenants
    body = {
        "model": LOCAL_MODEL,
        "messages": [{"role": "user", "content": "What is the vault code?"}],
        "max_tokens": 2,
    }
    for grounding in (
        {"knowledge_base": {"ids": [alice.kb_id]}},
        {"tools": [{"type": "retrieval", "retrieval": {"kb_ids": [alice.kb_id]}}]},
    ):
        response = bob.http.post("/v1/chat/completions", json={**body, **grounding})
        assert response.status_code == 404, response.text
        assert not _leaks(response, alice)
    for path in ("/v1/files", "/v1/kbs", "/v1/usage", "/v1/usage/requests", "/v1/key"):
        response = bob.http.get(path)
        assert response.status_code == 200, (path, response.text)
        assert not _leaks(response, alice) and alice.request_id not in response.text, path
        assert alice.key_id not in response.text and alice.file_id not in response.text, path
    own = bob.http.get("/v1/usage/requests").json()["data"]
    assert own and {r.get("request_id") for r in own} >= {bob.request_id}


def test_the_owner_still_has_everything(tenants: tuple[Tenant, Tenant]) -> None:
    alice, _bob = tenants
    assert alice.http.get(f"/v1/files/{alice.file_id}/content").text == SECRET
    kb = alice.http.get(f"/v1/kbs/{alice.kb_id}").json()
    assert kb["name"] == "alice-kb" and kb["file_ids"] == [alice.file_id]
    (link,) = alice.http.get(f"/v1/kbs/{alice.kb_id}/files").json()["data"]
    assert link["status"] == "online"
    hits = alice.http.post(f"/v1/kbs/{alice.kb_id}/search", json={"query": "vault code"}).json()
    assert "marigold" in hits["data"][0]["content"]
    assert alice.http.get("/v1/key").json()["id"] == alice.key_id
    kept = alice.http.get(f"/v1/responses/{alice.response_id}")
    assert kept.status_code == 200 and kept.json()["id"] == alice.response_id
