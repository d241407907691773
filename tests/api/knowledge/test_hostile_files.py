"""Issue 17, item 3: small hostile files cannot cost hours, nor one tenant stall another.

Parse limits (time, characters, chunks) fail an attachment with the limit as its reason;
hostile XML is a 400 / `fail`, never a 500; owners take turns in the ingestion queue;
deleting a file stops its ingestion; previews run in bounded pools shared fairly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.api.knowledge.helpers import KbApi, indexed_chunks, new_owner_key
from tests.knowledge.hostile import (
    deep_docx,
    empty_paragraphs_docx,
    entity_bomb_docx,
    entity_bomb_in_a_renamed_part,
    shared_stream_pdf,
)
from tests.support.server import RunningServer, run_server

PARSE_SECONDS = 1
MAX_CHUNKS = 200


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    config = {"knowledge": {"parse_seconds": PARSE_SECONDS, "max_file_chunks": MAX_CHUNKS}}
    with run_server(tmp_path_factory.mktemp("parse-limits"), config=config) as server:
        yield server


def _prose(sentences: int, seed: str = "") -> str:
    """Distinct sentences, so every chunk is real work to embed."""
    return " ".join(
        f"Sentence {n} {seed} tells of the {n % 7}th shelf in room {n * 31 % 97}."
        for n in range(sentences)
    )


def _status_when_done(api: KbApi, name: str, data: bytes, timeout: float) -> dict[str, object]:
    kb_id = api.create_kb()
    file_id = api.upload_ok(name, data)
    assert api.attach(kb_id, file_id).status_code == 200
    return api.wait_done(kb_id, timeout=timeout)[file_id]


@pytest.mark.parametrize(
    "build",
    [deep_docx, entity_bomb_docx, entity_bomb_in_a_renamed_part],
    ids=["deep", "entities", "entities-in-a-renamed-part"],
)
def test_hostile_xml_is_a_400_and_a_failed_file(server: RunningServer, build: object) -> None:
    assert callable(build)
    api = KbApi(server)
    file_id = api.upload_ok("hostile.docx", build())
    preview = api.http.get(f"/files/{file_id}/parsed-content")
    assert preview.status_code == 400, preview.text
    assert preview.json()["error"]["code"] == "file_parse_error"
    status = _status_when_done(api, "hostile.docx", build(), timeout=30)
    assert status["status"] == "fail" and "DOCX" in str(status["reason"])


def test_a_megabyte_of_empty_paragraphs_is_ingested_quickly(server: RunningServer) -> None:
    status = _status_when_done(KbApi(server), "empty.docx", empty_paragraphs_docx(), timeout=30)
    assert status["status"] == "online" and status["chunks"] == 1


def test_pages_sharing_one_stream_fail_at_the_character_cap(server: RunningServer) -> None:
    status = _status_when_done(KbApi(server), "shared.pdf", shared_stream_pdf(), timeout=45)
    assert status["status"] == "fail"
    assert status["reason"] == "parse limit: more than 3,000,000 characters"


def test_a_parse_past_the_time_limit_fails(limited: RunningServer) -> None:
    started = time.monotonic()
    status = _status_when_done(KbApi(limited), "slow.docx", empty_paragraphs_docx(12), timeout=30)
    assert status["status"] == "fail"
    assert status["reason"] == f"parse limit: parsing took longer than {PARSE_SECONDS} s"
    assert time.monotonic() - started < PARSE_SECONDS + 15


def test_too_many_chunks_fail_before_any_is_embedded(limited: RunningServer) -> None:
    api = KbApi(limited)
    status = _status_when_done(api, "long.txt", _prose(2000).encode(), timeout=30)
    assert status["status"] == "fail"
    assert status["reason"] == f"parse limit: more than {MAX_CHUNKS} chunks"
    assert indexed_chunks(limited.data_dir, str(status["id"])) == 0


def test_owners_take_turns_in_the_ingestion_queue(server: RunningServer) -> None:
    busy = KbApi(server)
    busy_kb = busy.create_kb()
    backlog = [busy.upload_ok(f"part{n}.txt", _prose(60, f"p{n}")) for n in range(5)]
    other = KbApi(server, new_owner_key(server, "turn-taker"))
    other_kb = other.create_kb()
    small = other.upload_ok("small.txt", "One short note about the canteen.")
    assert busy.attach(busy_kb, *backlog).status_code == 200
    assert other.attach(other_kb, small).status_code == 200
    deadline = time.monotonic() + 120
    while other.kb_files(other_kb)[small]["status"] != "online":
        assert time.monotonic() < deadline, other.kb_files(other_kb)
        time.sleep(0.1)
    states = [f["status"] for f in busy.kb_files(busy_kb).values()]
    assert states.count("online") <= 2, states  # the job under way, and at most one more
    busy.wait_done(busy_kb, timeout=180)


def test_deleting_a_file_stops_its_ingestion(server: RunningServer) -> None:
    api = KbApi(server)
    kb_id = api.create_kb()
    big = api.upload_ok("big.txt", _prose(3000, "big"))  # minutes of embedding
    assert api.attach(kb_id, big).status_code == 200
    deadline = time.monotonic() + 60
    while api.kb_files(kb_id)[big]["status"] != "parsing":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.5)  # into the embedding
    assert api.http.delete(f"/files/{big}").status_code == 200
    started = time.monotonic()
    status = _status_when_done(api, "next.txt", b"The next file in the queue.", timeout=60)
    assert status["status"] == "online"
    assert time.monotonic() - started < 15  # the worker was free again: the big job stopped
    time.sleep(1)
    assert indexed_chunks(server.data_dir, big) == 0


def test_one_owners_previews_cannot_starve_another(limited: RunningServer) -> None:
    hog = KbApi(limited)
    slow = hog.upload_ok("slow.docx", empty_paragraphs_docx(12))  # parses past the limit
    victim = KbApi(limited, new_owner_key(limited, "victim"))
    mine = victim.upload_ok("mine.txt", "My own small file.")

    def preview(api: KbApi, file_id: str) -> httpx.Response:
        return api.http.get(f"/files/{file_id}/parsed-content")

    with ThreadPoolExecutor(8) as pool:
        flood = [pool.submit(preview, hog, slow) for _ in range(8)]
        time.sleep(0.5)
        started = time.monotonic()
        download = victim.http.get(f"/files/{mine}/content")
        assert download.content == b"My own small file."
        downloaded = time.monotonic() - started
        parsed = preview(victim, mine)
        parsed_after = time.monotonic() - started
        assert parsed.json()["content"] == "My own small file."
        assert downloaded < 2 and parsed_after < 4, (downloaded, parsed_after)
        answers = [future.result() for future in flood]
    assert {a.status_code for a in answers} == {400}
    assert all("longer than" in a.json()["error"]["message"] for a in answers)
