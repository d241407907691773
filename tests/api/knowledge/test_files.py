"""/v1/files through the official SDK and raw HTTP, on SQLite and PostgreSQL metadata."""

from __future__ import annotations

import io

import httpx
import openai
import pytest

from tests.api.knowledge.helpers import ENGLISH_DOC, KbApi, new_owner_key
from tests.support.server import RunningServer, run_server


def sdk(server: RunningServer, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=key or server.admin_key, max_retries=0)


def test_upload_list_get_download_delete_through_the_sdk(any_server: RunningServer) -> None:
    client = sdk(any_server)
    created = client.files.create(
        file=("policy.md", io.BytesIO(ENGLISH_DOC.encode()), "text/markdown"),
        purpose="knowledge-base",  # type: ignore[arg-type]  # Baichuan's purpose
    )
    assert created.id.startswith("file-") and created.object == "file"
    assert created.filename == "policy.md"
    assert created.bytes == len(ENGLISH_DOC.encode())
    assert str(created.purpose) == "knowledge-base"
    assert created.id in [f.id for f in client.files.list()]
    assert client.files.retrieve(created.id).filename == "policy.md"
    assert client.files.content(created.id).read() == ENGLISH_DOC.encode()
    assert client.files.delete(created.id).deleted is True
    with pytest.raises(openai.NotFoundError) as caught:
        client.files.retrieve(created.id)
    assert caught.value.code == "file_not_found"


def test_parsed_content_is_the_extracted_text(server: RunningServer) -> None:
    api = KbApi(server)
    html = b"<html><body><nav>menu</nav><h1>Hours</h1><p>Open 9 to 5.</p></body></html>"
    file_id = api.upload_ok("hours.html", html)
    parsed = api.http.get(f"/files/{file_id}/parsed-content").json()
    assert parsed["id"] == file_id
    assert "Open 9 to 5." in parsed["content"] and "menu" not in parsed["content"]


def test_corrupt_file_has_no_parsed_content(server: RunningServer) -> None:
    api = KbApi(server)
    file_id = api.upload_ok("broken.pdf", b"%PDF-1.7\n garbage that is not a pdf \n%%EOF")
    response = api.http.get(f"/files/{file_id}/parsed-content")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "file_parse_error"


def test_a_path_in_the_filename_cannot_escape(server: RunningServer) -> None:
    api = KbApi(server)
    file_id = api.upload_ok("../../../escape\\evil.txt", "harmless text")
    assert api.http.get(f"/files/{file_id}").json()["filename"] == "evil.txt"
    root = server.data_dir.parent
    assert not list(root.rglob("evil.txt")) and not list(root.rglob("escape*"))
    download = api.http.get(f"/files/{file_id}/content")
    assert download.headers["content-type"] == "application/octet-stream"
    assert "evil.txt" in download.headers["content-disposition"]


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("tool.exe", b"MZ\x90\x00binary", "application/octet-stream"),
        ("photo.png", b"\x89PNG\r\n\x1a\nxxxx", "image/png"),
        ("notes.txt", b"text", "application/x-msdownload"),
    ],
)
def test_unsupported_types_are_refused(
    server: RunningServer, name: str, data: bytes, content_type: str
) -> None:
    response = KbApi(server).upload(name, data, content_type)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_file_type"


@pytest.mark.parametrize("purpose", ["assistants", "user_data", "file-extract"])
def test_other_sdks_purposes_are_taken_and_echoed(server: RunningServer, purpose: str) -> None:
    client = sdk(server)
    created = client.files.create(
        file=("notes.txt", io.BytesIO(b"Open 9 to 5."), "text/plain"),
        purpose=purpose,  # type: ignore[arg-type]  # Moonshot's is not in OpenAI's types
    )
    assert str(created.purpose) == purpose
    api = KbApi(server)
    kb_id = api.create_kb(f"kb-{purpose}")
    assert api.attach(kb_id, created.id).status_code == 200
    assert api.wait_done(kb_id)[created.id]["status"] == "online"


def test_bad_purpose_and_missing_file_are_400(server: RunningServer) -> None:
    api = KbApi(server)
    bad = api.http.post("/files", files={"file": ("a.txt", b"x")}, data={"purpose": "fine-tune"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "purpose"
    assert "knowledge-base" in bad.json()["error"]["message"]  # says what is accepted
    missing = api.http.post("/files", data={"purpose": "knowledge-base"})
    assert missing.status_code == 400


def test_another_owner_sees_none_of_my_files(any_server: RunningServer) -> None:
    mine = KbApi(any_server)
    file_id = mine.upload_ok("mine.txt", "private notes")
    theirs = KbApi(any_server, new_owner_key(any_server))
    for method, path in [
        ("GET", f"/files/{file_id}"),
        ("GET", f"/files/{file_id}/content"),
        ("GET", f"/files/{file_id}/parsed-content"),
        ("DELETE", f"/files/{file_id}"),
    ]:
        assert theirs.http.request(method, path).status_code == 404, path
    assert file_id not in [f["id"] for f in theirs.http.get("/files").json()["data"]]
    assert mine.http.get(f"/files/{file_id}").status_code == 200


def test_upload_limit_is_separate_from_the_json_body_limit(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = {"max_body_bytes": 32 * 1024, "max_file_bytes": 96 * 1024}
    with run_server(tmp_path_factory.mktemp("limits"), config=config) as server:
        api = KbApi(server)
        ok = api.upload("big.txt", b"a" * (64 * 1024), "text/plain")
        assert ok.status_code == 200, ok.text  # above the JSON limit, below the file limit
        too_big = api.upload("huge.txt", b"a" * (96 * 1024 + 1), "text/plain")
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "file_too_large"
        way_too_big = api.upload("huge.txt", b"a" * (512 * 1024), "text/plain")
        assert way_too_big.status_code == 413
        json_body = api.http.post("/kbs", json={"name": "x", "description": "d" * 40_000})
        assert json_body.status_code == 413
        assert httpx.get(server.base_url + "/health").status_code == 200
