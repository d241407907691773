"""A key's `allowed_kbs` holds on every knowledge-base and file route, not only in chat.

One owner, two knowledge bases: `one` (a secret file, and a file shared with `two`) and `two`,
plus a file in no knowledge base. A key of that owner limited to `two` tries every route that
takes an id (read from the app's OpenAPI document, so new routes are covered) with `one` and
its secret file: knowledge-base routes answer chat's 403, the secret file is invisible (404),
and the owner's unrestricted key finds everything unchanged afterwards.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.server import RunningServer

from .conftest import LOCAL_MODEL

SECRET = "The launch code of project heron is amber-5519.\n"
SHARED = "Both teams meet in the blue room on Thursdays.\n"
PUBLIC = "The cafeteria serves soup at noon.\n"
LOOSE = "A note that is in no knowledge base.\n"


@dataclass
class Setup:
    owner: str
    full: httpx.Client  # the owner's key without an allow-list
    limited: httpx.Client  # the owner's key with allowed_kbs = [two]
    one: str
    two: str
    secret: str  # only in `one`
    shared: str  # in `one` and `two`
    public: str  # only in `two`
    loose: str  # in no knowledge base


def _client(server: RunningServer, raw: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {raw}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


def _key(admin: httpx.Client, **fields: Any) -> str:
    response = admin.post("/admin/keys", json=fields)
    assert response.status_code == 201, response.text
    raw: str = response.json()["key"]
    return raw


def _upload(http: httpx.Client, name: str, text: str) -> str:
    files = {"file": (name, text.encode(), "text/plain")}
    response = http.post("/v1/files", files=files, data={"purpose": "knowledge-base"})
    assert response.status_code == 200, response.text
    file_id: str = response.json()["id"]
    return file_id


def _kb(http: httpx.Client, name: str, *file_ids: str) -> str:
    kb_id: str = http.post("/v1/kbs", json={"name": name}).json()["id"]
    attached = http.post(f"/v1/kbs/{kb_id}/files", json={"file_ids": list(file_ids)})
    assert attached.status_code == 200, attached.text
    deadline = time.monotonic() + 60
    while {f["status"] for f in http.get(f"/v1/kbs/{kb_id}/files").json()["data"]} != {"online"}:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return kb_id


@pytest.fixture(scope="module")
def setup(hard_server: RunningServer, admin: httpx.Client) -> Iterator[Setup]:
    owner = "allow-" + secrets.token_hex(4)
    full = _client(hard_server, _key(admin, owner=owner))
    secret = _upload(full, "heron.txt", SECRET)
    shared = _upload(full, "meetings.txt", SHARED)
    public = _upload(full, "cafeteria.txt", PUBLIC)
    loose = _upload(full, "loose.txt", LOOSE)
    one = _kb(full, "one", secret, shared)
    two = _kb(full, "two", shared, public)
    limited = _client(hard_server, _key(admin, owner=owner, allowed_kbs=[two]))
    yield Setup(owner, full, limited, one, two, secret, shared, public, loose)
    full.close()
    limited.close()


def not_allowed(kb_id: str) -> dict[str, Any]:
    message = f"This key is not allowed to use the knowledge bases ['{kb_id}']."
    return {
        "error": {
            "message": message,
            "type": "permission_error",
            "param": None,
            "code": "knowledge_base_not_allowed",
        }
    }


def no_such_file(file_id: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"No such file: {file_id}",
            "type": "invalid_request_error",
            "param": None,
            "code": "file_not_found",
        }
    }


def _routes(server: RunningServer) -> list[tuple[str, str]]:
    document = httpx.get(server.base_url + "/openapi.json", timeout=30).json()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if ("{kb_id}" in path or "{file_id}" in path) and not path.startswith("/admin/")
    ]


def _body(path: str, s: Setup) -> dict[str, Any] | None:
    if path.endswith("/files") or path.endswith("/files/{file_id}"):
        return {"file_ids": [s.secret]}
    if path.endswith("/search"):
        return {"query": "launch code"}
    if path == "/v1/kbs/{kb_id}":
        return {"name": "taken over"}
    return None


def test_every_route_keeps_a_limited_key_out_of_other_knowledge_bases(
    hard_server: RunningServer, setup: Setup
) -> None:
    s = setup
    routes = _routes(hard_server)
    assert len(routes) == 12, routes  # 7 knowledge-base routes, 4 file routes, search
    for method, path in routes:
        url = path.replace("{kb_id}", s.one).replace("{file_id}", s.secret)
        response = s.limited.request(method, url, json=_body(path, s))
        if "{kb_id}" in path:
            assert (response.status_code, response.json()) == (403, not_allowed(s.one)), url
        else:
            assert (response.status_code, response.json()) == (404, no_such_file(s.secret)), url
    # Chat refuses the same knowledge base with the same envelope.
    chat = s.limited.post(
        "/v1/chat/completions",
        json={
            "model": LOCAL_MODEL,
            "messages": [{"role": "user", "content": "What is the launch code?"}],
            "max_tokens": 2,
            "knowledge_base": {"ids": [s.one]},
        },
    )
    assert (chat.status_code, chat.json()) == (403, not_allowed(s.one))
    # The owner's key without an allow-list still has all of it, untouched.
    kb = s.full.get(f"/v1/kbs/{s.one}").json()
    assert (kb["name"], kb["file_ids"]) == ("one", [s.secret, s.shared])
    assert s.full.get(f"/v1/files/{s.secret}/content").text == SECRET
    assert s.full.get(f"/v1/files/{s.secret}/parsed-content").json()["content"] == SECRET.strip()
    hits = s.full.post(f"/v1/kbs/{s.one}/search", json={"query": "launch code heron"}).json()
    assert hits["data"][0]["file_id"] == s.secret


def test_lists_and_reads_reach_only_the_allowed_knowledge_bases(setup: Setup) -> None:
    s = setup
    assert [kb["id"] for kb in s.limited.get("/v1/kbs").json()["data"]] == [s.two]
    assert [kb["id"] for kb in s.full.get("/v1/kbs").json()["data"]] == [s.one, s.two]
    limited_files = [f["id"] for f in s.limited.get("/v1/files").json()["data"]]
    assert limited_files == [s.shared, s.public, s.loose]
    full_files = [f["id"] for f in s.full.get("/v1/files").json()["data"]]
    assert full_files == [s.secret, s.shared, s.public, s.loose]
    for file_id, text in ((s.shared, SHARED), (s.public, PUBLIC), (s.loose, LOOSE)):
        assert s.limited.get(f"/v1/files/{file_id}").json()["id"] == file_id
        assert s.limited.get(f"/v1/files/{file_id}/content").text == text
        parsed = s.limited.get(f"/v1/files/{file_id}/parsed-content").json()
        assert parsed["content"] == text.strip()
    kb = s.limited.get(f"/v1/kbs/{s.two}").json()
    assert kb["file_ids"] == [s.shared, s.public]
    hits = s.limited.post(f"/v1/kbs/{s.two}/search", json={"query": "blue room Thursdays"})
    assert hits.status_code == 200, hits.text
    assert {h["kb_id"] for h in hits.json()["data"]} == {s.two}


def test_a_limited_key_cannot_reach_past_its_allow_list_through_files(setup: Setup) -> None:
    s = setup
    # A file only in `one` cannot be smuggled into `two`.
    attach = s.limited.post(f"/v1/kbs/{s.two}/files", json={"file_ids": [s.secret]})
    assert (attach.status_code, attach.json()) == (404, no_such_file(s.secret))
    assert s.full.get(f"/v1/kbs/{s.two}").json()["file_ids"] == [s.shared, s.public]
    # Deleting a file also in `one` would change `one`.
    refused = s.limited.delete(f"/v1/files/{s.shared}")
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {
            "message": "This key is not allowed to use the knowledge bases the file is in.",
            "type": "permission_error",
            "param": None,
            "code": "knowledge_base_not_allowed",
        }
    }
    assert s.full.get(f"/v1/kbs/{s.one}").json()["file_ids"] == [s.secret, s.shared]
    # A new knowledge base could never be on the list.
    created = s.limited.post("/v1/kbs", json={"name": "three"})
    assert created.status_code == 403
    assert created.json() == {
        "error": {
            "message": "This key is not allowed to create knowledge bases: "
            "it may use only those on its list.",
            "type": "permission_error",
            "param": None,
            "code": "knowledge_base_not_allowed",
        }
    }
    assert len(s.full.get("/v1/kbs").json()["data"]) == 2
    # Its own uploads are the owner's, and files only in allowed bases are its to delete.
    upload = _upload(s.limited, "draft.txt", "A draft.\n")
    assert upload in [f["id"] for f in s.full.get("/v1/files").json()["data"]]
    attached = s.limited.post(f"/v1/kbs/{s.two}/files", json={"file_ids": [upload]})
    assert attached.json()["file_ids"] == [s.shared, s.public, upload]
    assert s.limited.delete(f"/v1/files/{upload}").json() == {
        "id": upload,
        "object": "file",
        "deleted": True,
    }
    assert s.full.get(f"/v1/kbs/{s.two}").json()["file_ids"] == [s.shared, s.public]
