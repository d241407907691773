"""Hostile uploads to `/v1/files`: each gets a clear 4xx, or is stored and then fails ingestion
with a reason; afterwards the server, the other files and the knowledge bases are intact."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.knowledge.conftest import build_docx, build_pdf
from tests.support.server import RunningServer

from .conftest import MAX_FILE_BYTES

GOOD_TEXT = "The lighthouse keeper logs the passing ships in a blue ledger every evening.\n"


def zip_bomb() -> bytes:
    """A DOCX-shaped zip whose document.xml inflates to 80 MB from about 80 KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<" + b"a" * (80 * 1024 * 1024) + b">")
    return out.getvalue()


def corrupt_pdf() -> bytes:
    good = build_pdf(["Quarterly figures, page one."])
    return good[: len(good) // 2] + b"\x00garbage\xff" * 50 + b"\n%%EOF\n"


@dataclass(frozen=True)
class Hostile:
    name: str
    data: Callable[[], bytes]
    content_type: str = "application/octet-stream"
    # Where it must be stopped: "upload" (a 4xx there) or "ingest" (`fail` with a reason).
    stopped_at: str = "ingest"
    reason: str = ""  # what the error message or the fail reason must say (where stopped)


HOSTILE = [
    Hostile("corrupt.pdf", corrupt_pdf, reason="PDF"),
    Hostile("headers-only.pdf", lambda: b"%PDF-1.7\n%%EOF\n", reason="PDF"),
    Hostile(
        "locked.pdf", lambda: build_pdf(["secret plans"], password="hunter2"), reason="encrypt"
    ),
    Hostile("bomb.docx", zip_bomb, reason="zip bomb"),
    Hostile(
        "broken.docx", lambda: build_docx([("p", "x")])[:300], stopped_at="upload", reason="zip"
    ),
    Hostile("../../etc/passwd", lambda: b"root:x:0:0:root:/root:/bin/bash\n", stopped_at="none"),
    Hostile("..\\..\\windows\\notes.txt", lambda: b"[fonts]\n", stopped_at="none"),
    Hostile(
        "image.txt", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, stopped_at="upload", reason="PNG"
    ),
    Hostile(
        "text.pdf",
        lambda: b"just some words, no PDF here",
        stopped_at="upload",
        reason="declared as pdf but its content is text",
    ),
    Hostile(
        "report.docx", lambda: build_pdf(["a pdf in disguise"]), stopped_at="upload", reason="pdf"
    ),
    Hostile(
        "program.exe", lambda: b"MZ\x90\x00" + b"\x00" * 60, stopped_at="upload", reason="'.exe'"
    ),
    Hostile(
        "notes.txt",
        lambda: b"ok",
        content_type="image/png",
        stopped_at="upload",
        reason="content type 'image/png'",
    ),
    Hostile("binary.txt", lambda: b"abc\x00\x01\x02" * 100, stopped_at="upload", reason="binary"),
    Hostile("empty.txt", lambda: b"", reason="no text"),
    Hostile("blank.md", lambda: b" \n\t\n   ", reason="no text"),
    Hostile("latin1.txt", lambda: "café olé naïve\n".encode("latin-1"), reason="UTF-8"),
    Hostile(
        "huge.txt",
        lambda: b"a" * (MAX_FILE_BYTES + 1),
        stopped_at="413",
        reason=f"exceeds the limit of {MAX_FILE_BYTES} bytes",
    ),
    Hostile("x" * 1000 + ".txt", lambda: b"long name\n", stopped_at="none"),
    Hostile("y" * 20000 + ".txt", lambda: b"longer\n", stopped_at="upload", reason="multipart"),
    Hostile("ctrl\x00\x1b[31m.txt", lambda: b"control characters in the name\n", stopped_at="none"),
]


@pytest.fixture(scope="module")
def files_api(hard_server: RunningServer) -> Any:
    headers = {"Authorization": f"Bearer {hard_server.admin_key}"}
    with httpx.Client(base_url=hard_server.api_url, headers=headers, timeout=120) as client:
        yield client


def upload(client: httpx.Client, name: str, data: bytes, content_type: str) -> httpx.Response:
    files = {"file": (name, data, content_type)}
    return client.post("/files", files=files, data={"purpose": "knowledge-base"})


def wait_done(client: httpx.Client, kb_id: str, timeout: float = 120) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout
    while True:
        files = {f["id"]: f for f in client.get(f"/kbs/{kb_id}/files").json()["data"]}
        if all(f["status"] in ("online", "fail") for f in files.values()):
            return files
        assert time.monotonic() < deadline, files
        time.sleep(0.2)


@pytest.fixture(scope="module")
def bystander(files_api: httpx.Client) -> dict[str, str]:
    """A good file in a knowledge base, online before the hostile files arrive."""
    response = upload(files_api, "lighthouse.txt", GOOD_TEXT.encode(), "text/plain")
    assert response.status_code == 200, response.text
    file_id = response.json()["id"]
    kb = files_api.post("/kbs", json={"name": "bystander"}).json()
    assert files_api.post(f"/kbs/{kb['id']}/files", json={"file_ids": [file_id]}).is_success
    assert wait_done(files_api, kb["id"])[file_id]["status"] == "online"
    return {"file_id": file_id, "kb_id": kb["id"]}


@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: h.name[:24])
def test_hostile_file_is_refused_or_fails_with_a_reason(
    files_api: httpx.Client, bystander: dict[str, str], hostile: Hostile
) -> None:
    data = hostile.data()
    response = upload(files_api, hostile.name, data, hostile.content_type)
    if hostile.stopped_at in ("upload", "413"):
        expected = 413 if hostile.stopped_at == "413" else 400
        assert response.status_code == expected, response.text
        error = response.json()["error"]
        assert hostile.reason, "a refusal must say why"
        assert hostile.reason.lower() in error["message"].lower(), error
        return
    assert response.status_code == 200, response.text
    stored = response.json()
    # Only a base name is kept: no separators, no control characters, at most 255 long.
    assert "/" not in stored["filename"] and "\\" not in stored["filename"]
    assert stored["filename"].isprintable() and 0 < len(stored["filename"]) <= 255
    assert stored["bytes"] == len(data)
    content = files_api.get(f"/files/{stored['id']}/content")
    assert content.status_code == 200 and content.content == data
    kb = files_api.post("/kbs", json={"name": "hostile"}).json()
    attached = files_api.post(f"/kbs/{kb['id']}/files", json={"file_ids": [stored["id"]]})
    assert attached.status_code == 200, attached.text
    status = wait_done(files_api, kb["id"])[stored["id"]]
    if hostile.stopped_at == "ingest":
        assert status["status"] == "fail", status
        assert hostile.reason, "a failure must say why"
        assert hostile.reason.lower() in status["reason"].lower(), status
        parsed = files_api.get(f"/files/{stored['id']}/parsed-content")
        assert parsed.status_code == 400 and parsed.json()["error"]["message"]
    else:
        assert status["status"] == "online", status


def test_nothing_was_written_outside_the_data_dir(
    hard_server: RunningServer, files_api: httpx.Client
) -> None:
    response = upload(files_api, "../../escaped.txt", b"where am I\n", "text/plain")
    assert response.status_code == 200, response.text
    assert response.json()["filename"] == "escaped.txt"  # its base name only
    root = hard_server.data_dir
    assert not (root.parent / "escaped.txt").exists()
    assert not (root.parent.parent / "escaped.txt").exists()
    stored = list((root / "files").rglob("*"))
    assert any(p.is_file() for p in stored), stored  # the upload is in there...
    assert all(p.is_dir() or len(p.name) == 64 for p in stored), stored  # ...under its digest


def test_bystanders_are_intact_after_the_hostile_files(
    hard_server: RunningServer, files_api: httpx.Client, bystander: dict[str, str]
) -> None:
    assert httpx.get(hard_server.base_url + "/health", timeout=10).json()["status"] == "ok"
    content = files_api.get(f"/files/{bystander['file_id']}/content")
    assert content.content == GOOD_TEXT.encode()
    files = wait_done(files_api, bystander["kb_id"])
    assert files[bystander["file_id"]]["status"] == "online"
    hits = files_api.post(f"/kbs/{bystander['kb_id']}/search", json={"query": "lighthouse ledger"})
    assert hits.status_code == 200 and hits.json()["data"], hits.text
    assert "blue ledger" in hits.json()["data"][0]["content"]
