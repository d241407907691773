"""A key made without an owner is its own tenant (its owner is its id), whether the admin API,
`modelport keys create` or the first start made it; keys stored with owner "default" before
that keep sharing that owner's files, as they always did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from modelport.accounting.keys import BOOTSTRAP_KEY_ID
from modelport.cli.keys import keys_app
from tests.support.server import RunningServer, run_server


def _as(server: RunningServer, raw: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {raw}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


def _upload(http: httpx.Client, name: str) -> str:
    files = {"file": (name, f"the contents of {name}\n".encode(), "text/plain")}
    response = http.post("/v1/files", files=files, data={"purpose": "knowledge-base"})
    assert response.status_code == 200, response.text
    file_id: str = response.json()["id"]
    return file_id


def _file_ids(http: httpx.Client) -> list[str]:
    response = http.get("/v1/files")
    assert response.status_code == 200, response.text
    return [f["id"] for f in response.json()["data"]]


def _no_such_file(file_id: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"No such file: {file_id}",
            "type": "invalid_request_error",
            "param": None,
            "code": "file_not_found",
        }
    }


def test_admin_api_keys_without_an_owner_are_their_own_tenants(server: RunningServer) -> None:
    admin = _as(server, server.admin_key)
    created = [admin.post("/admin/keys", json=body) for body in ({}, {"name": "solo"})]
    assert [r.status_code for r in created] == [201, 201]
    first, second = (r.json() for r in created)
    assert first["owner"] == first["id"] and second["owner"] == second["id"]
    a, b = _as(server, first["key"]), _as(server, second["key"])
    assert a.get("/v1/key").json()["owner"] == first["id"]
    file_id = _upload(a, "a-notes.txt")
    kb_id = a.post("/v1/kbs", json={"name": "a-kb"}).json()["id"]
    assert _file_ids(a) == [file_id]
    assert _file_ids(b) == []
    assert b.get("/v1/kbs").json()["data"] == []
    missing = b.get(f"/v1/files/{file_id}")
    assert (missing.status_code, missing.json()) == (404, _no_such_file(file_id))
    assert b.get(f"/v1/kbs/{kb_id}").status_code == 404
    listed = admin.get("/admin/keys", params={"owner": first["id"]}).json()["data"]
    assert [k["id"] for k in listed] == [first["id"]]


def test_the_bootstrap_admin_key_is_its_own_tenant(server: RunningServer) -> None:
    admin = _as(server, server.admin_key)
    me = admin.get("/v1/key").json()
    assert (me["id"], me["owner"]) == (BOOTSTRAP_KEY_ID, BOOTSTRAP_KEY_ID)
    file_id = _upload(admin, "admin-only.txt")
    named_admin = admin.post("/admin/keys", json={"name": "ops", "owner": "admin"}).json()
    other = _as(server, named_admin["key"])
    assert file_id not in _file_ids(other)
    missing = other.get(f"/v1/files/{file_id}/content")
    assert (missing.status_code, missing.json()) == (404, _no_such_file(file_id))


def _cli_key(db_url: str, data_dir: Path, *options: str) -> tuple[str, str]:
    """The raw key `modelport keys create` prints, and the owner it reports."""
    args = ["create", *options, "--database-url", db_url, "--data-dir", str(data_dir)]
    result = CliRunner().invoke(keys_app, args)
    assert result.exit_code == 0, result.output
    owner = result.stderr.split("for owner '", 1)[1].split("'", 1)[0]
    return result.stdout.strip(), owner


def test_cli_keys_without_an_owner_are_their_own_tenants(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    db_url = f"sqlite+aiosqlite:///{(data_dir / 'modelport.db').resolve()}"
    # Keys stored with owner "default" (what every owner-less key got before) ...
    legacy = [_cli_key(db_url, data_dir, "--owner", "default") for _ in range(2)]
    # ... and keys made now without one.
    fresh = [_cli_key(db_url, data_dir, "--name", "solo") for _ in range(2)]
    assert [owner for _, owner in legacy] == ["default", "default"]
    with run_server(data_dir) as server:
        old_a, old_b = (_as(server, raw) for raw, _ in legacy)
        new_a, new_b = (_as(server, raw) for raw, _ in fresh)
        for http, (_, owner) in zip((new_a, new_b), fresh, strict=True):
            me = http.get("/v1/key").json()
            assert me["owner"] == me["id"] == owner
        shared = _upload(old_a, "team.txt")
        own = _upload(new_a, "mine.txt")
        # The legacy "default" owner still shares its files between its keys ...
        assert _file_ids(old_b) == [shared]
        assert old_b.get(f"/v1/files/{shared}/content").text == "the contents of team.txt\n"
        # ... and the new keys see neither that owner's files nor each other's.
        assert _file_ids(new_a) == [own]
        assert _file_ids(new_b) == []
        for http, file_id in ((new_a, shared), (new_b, shared), (new_b, own)):
            missing = http.get(f"/v1/files/{file_id}")
            assert (missing.status_code, missing.json()) == (404, _no_such_file(file_id))
        assert own not in _file_ids(old_a)
