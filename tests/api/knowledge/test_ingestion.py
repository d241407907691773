"""Background ingestion: statuses, failures with reasons, chunk removal, restart/resume."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tests.api.knowledge.helpers import (
    CHINESE_DOC,
    ENGLISH_DOC,
    OTHER_ENGLISH_DOC,
    KbApi,
    indexed_chunks,
)
from tests.support.server import RunningServer, run_server

CORRUPT_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> broken beyond repair\n%%EOF"


def test_a_corrupt_file_fails_with_a_reason(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id = api.create_kb()
    good = api.upload_ok("travel.md", ENGLISH_DOC)
    bad = api.upload_ok("scan.pdf", CORRUPT_PDF)
    assert api.attach(kb_id, good, bad).json()["status"] in ("init", "parsing")
    files = api.wait_done(kb_id)
    assert files[good]["status"] == "online" and files[good]["chunks"] > 0
    assert files[bad]["status"] == "fail" and files[bad]["reason"]
    assert files[bad]["chunks"] == 0 and indexed_chunks(server.data_dir, bad) == 0
    assert api.http.get(f"/kbs/{kb_id}").json()["status"] == "online"  # one file is usable

    only_bad = api.create_kb()
    api.attach(only_bad, bad)
    assert api.wait_done(only_bad)[bad]["status"] == "fail"
    assert api.http.get(f"/kbs/{only_bad}").json()["status"] == "fail"


def test_deleting_a_file_removes_its_chunks_everywhere(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id, (travel, plants) = api.kb_with(
        ("travel.md", ENGLISH_DOC), ("plants.txt", OTHER_ENGLISH_DOC)
    )
    other_kb, _ = api.kb_with(("more.md", "Unrelated."))
    api.attach(other_kb, travel)
    api.wait_done(other_kb)
    assert indexed_chunks(server.data_dir, travel) > indexed_chunks(server.data_dir, travel, kb_id)
    assert api.http.delete(f"/files/{travel}").status_code == 200
    assert indexed_chunks(server.data_dir, travel) == 0
    assert list(api.kb_files(kb_id)) == [plants]
    cites = api.chat([kb_id], "What is the daily meal allowance?").json()["knowledge_base"]
    assert all(c["file_id"] != travel for c in cites["cites"])


def test_detaching_and_deleting_a_kb_remove_its_chunks(server: RunningServer) -> None:
    api = KbApi(server)
    first, (doc,) = api.kb_with(("travel.md", ENGLISH_DOC))
    second = api.create_kb()
    api.attach(second, doc)
    api.wait_done(second)
    assert indexed_chunks(server.data_dir, doc, second) > 0
    api.http.delete(f"/kbs/{first}/files/{doc}")
    assert indexed_chunks(server.data_dir, doc, first) == 0
    assert indexed_chunks(server.data_dir, doc, second) > 0
    assert api.http.delete(f"/kbs/{second}").status_code == 200
    assert indexed_chunks(server.data_dir, doc) == 0
    assert api.http.get(f"/files/{doc}/content").status_code == 200  # the file itself stays


def test_identical_uploads_share_bytes_until_the_last_is_deleted(server: RunningServer) -> None:
    api = KbApi(server)
    first = api.upload_ok("a.txt", "same bytes, twice")
    second = api.upload_ok("b.txt", "same bytes, twice")
    blobs = list((server.data_dir / "files").rglob("*"))
    api.http.delete(f"/files/{first}")
    assert api.http.get(f"/files/{second}/content").content == b"same bytes, twice"
    api.http.delete(f"/files/{second}")
    assert len(list((server.data_dir / "files").rglob("*"))) < len(blobs)


def _mark_parsing(data_dir: Path, file_id: str) -> None:
    """What a crash mid-ingestion leaves behind."""
    with sqlite3.connect(data_dir / "modelport.db") as db:
        db.execute(
            "UPDATE knowledge_base_files SET status = 'parsing' WHERE file_id = ?", (file_id,)
        )


def test_ingestion_resumes_after_a_restart(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("restart")
    with run_server(data_dir, config={"knowledge": {"ingest": False}}) as paused:
        api = KbApi(paused)
        kb_id = api.create_kb()
        english = api.upload_ok("travel.md", ENGLISH_DOC)
        chinese = api.upload_ok("手册.txt", CHINESE_DOC)
        api.attach(kb_id, english, chinese)
        time.sleep(0.5)
        assert {f["status"] for f in api.kb_files(kb_id).values()} == {"init"}
        # Nothing is searchable yet; the answer still comes, without cites.
        reply = api.chat([kb_id], "What is the meal allowance?")
        assert reply.status_code == 200 and reply.json()["knowledge_base"]["cites"] == []
    _mark_parsing(data_dir, chinese)
    with run_server(data_dir) as resumed:
        api = KbApi(resumed, paused.admin_key)
        files = api.wait_done(kb_id)
        assert {f["status"] for f in files.values()} == {"online"}
        assert indexed_chunks(data_dir, english, kb_id) > 0
        assert indexed_chunks(data_dir, chinese, kb_id) > 0
        cites = api.chat([kb_id], "年假有几天").json()["knowledge_base"]["cites"]
        assert cites[0]["file_id"] == chinese
