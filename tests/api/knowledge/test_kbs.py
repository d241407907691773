"""/v1/kbs: CRUD, Baichuan's limits, attaching files, ownership."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.knowledge.helpers import KbApi, new_owner_key
from tests.support.server import RunningServer


def test_create_get_list_modify_delete(any_server: RunningServer) -> None:
    api = KbApi(any_server)
    split = {"chunk_max_len": 300, "chunk_overlap_len": 30, "separators": ["\n", "。"]}
    created = api.http.post(
        "/kbs", json={"name": "手册", "description": "员工手册", "split_config": split}
    ).json()
    kb_id = created["id"]
    assert kb_id.startswith("kb-") and created["object"] == "knowledge-base"
    assert created["split_config"] == split
    assert created["file_ids"] == [] and created["status"] == "init"  # nothing to search yet
    assert api.http.get(f"/kbs/{kb_id}").json()["name"] == "手册"
    assert kb_id in [kb["id"] for kb in api.http.get("/kbs").json()["data"]]
    modified = api.http.post(f"/kbs/{kb_id}", json={"description": "新的描述"}).json()
    assert (modified["name"], modified["description"]) == ("手册", "新的描述")
    assert api.http.delete(f"/kbs/{kb_id}").json() == {
        "id": kb_id,
        "object": "knowledge-base",
        "deleted": True,
    }
    gone = api.http.get(f"/kbs/{kb_id}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "knowledge_base_not_found"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": "n" * 51}, "name"),
        ({"name": ""}, "name"),
        ({"name": "ok", "description": "d" * 101}, "description"),
        ({"name": "ok", "split_config": {"chunk_max_len": 513}}, "split_config.chunk_max_len"),
        (
            {"name": "ok", "split_config": {"chunk_max_len": 100, "chunk_overlap_len": 50}},
            "split_config",
        ),
        ({"name": "ok", "split_config": {"separators": [""]}}, "split_config"),
    ],
)
def test_reference_limits_are_enforced(
    server: RunningServer, body: dict[str, Any], param: str
) -> None:
    response = KbApi(server).http.post("/kbs", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_the_largest_allowed_split_is_accepted(server: RunningServer) -> None:
    split = {"chunk_max_len": 512, "chunk_overlap_len": 255}  # 2 * 255 + 1 = 511 <= 512
    response = KbApi(server).http.post("/kbs", json={"name": "edge", "split_config": split})
    assert response.status_code == 200, response.text


def test_attach_list_and_detach_files(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id = api.create_kb()
    first, second = api.upload_ok("a.txt", "alpha text"), api.upload_ok("b.txt", "beta text")
    attached = api.attach(kb_id, first, second).json()
    assert attached["file_ids"] == [first, second]
    files = api.wait_done(kb_id)
    assert {f["status"] for f in files.values()} == {"online"}
    assert files[first]["filename"] == "a.txt" and files[first]["chunks"] == 1
    detached = api.http.request("DELETE", f"/kbs/{kb_id}/files", json={"file_ids": [first]})
    assert detached.json()["file_ids"] == [second]
    assert api.http.delete(f"/kbs/{kb_id}/files/{second}").json()["file_ids"] == []
    assert api.http.delete(f"/kbs/{kb_id}/files/{second}").status_code == 404


def test_attaching_an_unknown_file_is_404_and_attaches_nothing(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id = api.create_kb()
    real = api.upload_ok("real.txt", "real")
    response = api.attach(kb_id, real, "file-doesnotexist")
    assert response.status_code == 404
    assert "file-doesnotexist" in response.json()["error"]["message"]
    assert api.kb_files(kb_id) == {}


def test_another_owner_cannot_see_or_use_my_kb(any_server: RunningServer) -> None:
    mine = KbApi(any_server)
    kb_id = mine.create_kb("private")
    my_file = mine.upload_ok("mine.txt", "mine")
    theirs = KbApi(any_server, new_owner_key(any_server, owner="kb-intruder"))
    their_file = theirs.upload_ok("theirs.txt", "theirs")
    for method, path, body in [
        ("GET", f"/kbs/{kb_id}", None),
        ("POST", f"/kbs/{kb_id}", {"name": "stolen"}),
        ("DELETE", f"/kbs/{kb_id}", None),
        ("GET", f"/kbs/{kb_id}/files", None),
        ("POST", f"/kbs/{kb_id}/files", {"file_ids": [their_file]}),
    ]:
        assert theirs.http.request(method, path, json=body).status_code == 404, path
    assert kb_id not in [kb["id"] for kb in theirs.http.get("/kbs").json()["data"]]
    # Nor may I attach their file to my knowledge base.
    assert mine.attach(kb_id, my_file, their_file).status_code == 404
    assert mine.http.get(f"/kbs/{kb_id}").json()["name"] == "private"
