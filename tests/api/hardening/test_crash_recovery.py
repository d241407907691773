"""`kill -9` during a burst of writes and during ingestion, then a restart on the same data:
every acknowledged write is there, no knowledge base serves a half-indexed file, and the
interrupted ingestion resumes to `online` (or ends `fail` with a reason)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.knowledge.helpers import indexed_chunks
from tests.support.ledger import usage_rows
from tests.support.server import RunningServer, run_server

WORDS = ["harbour", "lantern", "ledger", "copper", "meadow", "falcon", "orchard", "quarry"]


def _document(seed: int, paragraphs: int) -> str:
    rng = random.Random(seed)
    return "\n\n".join(
        " ".join(rng.choice(WORDS) for _ in range(60)) + f" (part {seed}-{i})."
        for i in range(paragraphs)
    )


class Writer:
    """Writes as fast as it can from a few threads and remembers what was acknowledged."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.files: dict[str, bytes] = {}
        self.kbs: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.chats: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def enough(self) -> bool:
        return len(self.files) >= 4 and len(self.kbs) + len(self.keys) >= 4 and bool(self.chats)

    def run(self, worker: int) -> None:
        headers = {"Authorization": f"Bearer {self.server.admin_key}"}
        with httpx.Client(base_url=self.server.base_url, headers=headers, timeout=10) as http:
            n = 0
            while not self.stop.is_set():
                n += 1
                try:
                    self._one(http, worker, n)
                except httpx.TimeoutException:
                    continue  # not acknowledged; the burst goes on
                except httpx.HTTPError:
                    return  # the server died under us: what was acknowledged is recorded

    def _one(self, http: httpx.Client, worker: int, n: int) -> None:
        kind = n % 5
        if kind in (0, 4):
            data = f"note {worker}-{n} {uuid.uuid4().hex}\n".encode()
            files = {"file": (f"n{worker}-{n}.txt", data, "text/plain")}
            response = http.post("/v1/files", files=files, data={"purpose": "knowledge-base"})
            if response.status_code == 200:
                with self.lock:
                    self.files[response.json()["id"]] = data
        elif kind == 2:
            name = f"kb-{worker}-{n}"
            response = http.post("/v1/kbs", json={"name": name})
            if response.status_code == 200:
                with self.lock:
                    self.kbs[response.json()["id"]] = name
        elif kind == 3:
            response = http.post("/admin/keys", json={"name": f"k{worker}-{n}", "owner": "burst"})
            if response.status_code == 201:
                with self.lock:
                    self.keys[response.json()["id"]] = f"k{worker}-{n}"
        else:
            request_id = f"crash-{uuid.uuid4().hex[:12]}"
            body = {
                "model": "smollm2-135m-instruct",
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 1,
            }
            response = http.post(
                "/v1/chat/completions", json=body, headers={"X-Request-ID": request_id}
            )
            if response.status_code == 200:
                with self.lock:
                    self.chats.append(request_id)


@pytest.fixture(scope="module")
def crash_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crash")


@pytest.fixture(scope="module")
def crashed(crash_dir: Path) -> Iterator[dict[str, Any]]:
    """Run a burst of writes, start a big ingestion, and kill -9 the server in the middle."""
    with run_server(crash_dir) as server:
        writer = Writer(server)
        threads = [threading.Thread(target=writer.run, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        http = httpx.Client(base_url=server.base_url, headers=headers, timeout=30)
        ingest_files = []
        for i in range(3):
            data = _document(i, 10).encode()
            files = {"file": (f"doc{i}.txt", data, "text/plain")}
            uploaded = http.post("/v1/files", files=files, data={"purpose": "knowledge-base"})
            assert uploaded.status_code == 200, uploaded.text
            ingest_files.append(uploaded.json()["id"])
        kb_id = http.post("/v1/kbs", json={"name": "ingesting"}).json()["id"]
        attached = http.post(f"/v1/kbs/{kb_id}/files", json={"file_ids": ingest_files})
        assert attached.status_code == 200, attached.text
        deadline = time.monotonic() + 30  # the burst goes on; ingestion is under way
        while not writer.enough() and time.monotonic() < deadline:
            time.sleep(0.1)
        statuses = {f["id"]: f["status"] for f in http.get(f"/v1/kbs/{kb_id}/files").json()["data"]}
        server.kill()  # SIGKILL: no shutdown, no flush
        writer.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        http.close()
    yield {
        "writer": writer,
        "kb_id": kb_id,
        "ingest_files": ingest_files,
        "statuses_at_kill": statuses,
    }


@pytest.fixture(scope="module")
def restarted(crash_dir: Path, crashed: dict[str, Any]) -> Iterator[RunningServer]:
    with run_server(crash_dir) as server:
        yield server


def _admin(server: RunningServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


def test_every_acknowledged_write_survives(
    restarted: RunningServer, crashed: dict[str, Any]
) -> None:
    writer: Writer = crashed["writer"]
    assert len(writer.files) >= 4 and len(writer.kbs) + len(writer.keys) >= 4, "a short burst"
    assert writer.chats, "a short burst"
    with _admin(restarted) as http:
        for file_id, data in writer.files.items():
            assert http.get(f"/v1/files/{file_id}/content").content == data, file_id
        kbs = {kb["id"]: kb["name"] for kb in http.get("/v1/kbs").json()["data"]}
        assert {k: kbs.get(k) for k in writer.kbs} == writer.kbs
        keys = {k["id"]: k["name"] for k in http.get("/admin/keys?owner=burst").json()["data"]}
        assert {k: keys.get(k) for k in writer.keys} == writer.keys
    # An answered chat's usage row is journalled before the answer goes out, and the restart
    # replays the journal: none is lost, and none is booked twice.
    rows = {r: usage_rows(restarted.database_url, r) for r in writer.chats}
    lost = [r for r, found in rows.items() if not found]
    assert lost == [], f"{len(lost)} of {len(writer.chats)} answered chats lost their usage row"
    assert all(len(found) == 1 and found[0]["status"] == 200 for found in rows.values()), rows
    print(
        f"\ncrash: {len(writer.files)} files, {len(writer.kbs)} kbs, {len(writer.keys)} keys, "
        f"{len(writer.chats)} chats acknowledged and kept"
    )


def test_no_half_indexed_file_is_served_and_ingestion_resumes(
    restarted: RunningServer, crashed: dict[str, Any]
) -> None:
    kb_id = crashed["kb_id"]
    assert set(crashed["statuses_at_kill"].values()) & {"init", "parsing"}, (
        "the kill came after ingestion had finished",
        crashed["statuses_at_kill"],
    )
    with _admin(restarted) as http:
        deadline = time.monotonic() + 180
        while True:
            links = {f["id"]: f for f in http.get(f"/v1/kbs/{kb_id}/files").json()["data"]}
            for file_id, link in links.items():
                if link["status"] == "online":  # searchable means complete
                    assert indexed_chunks(restarted.data_dir, file_id, kb_id) == link["chunks"]
            hits = http.post(f"/v1/kbs/{kb_id}/search", json={"query": "harbour lantern"})
            assert hits.status_code == 200
            # Read after the search: a file may come online between the two reads, and a file
            # found must be online by then (online is for good; half-indexed never is).
            after = http.get(f"/v1/kbs/{kb_id}/files").json()["data"]
            online = {f["id"] for f in after if f["status"] == "online"}
            assert {h["file_id"] for h in hits.json()["data"]} <= online
            if all(link["status"] in ("online", "fail") for link in links.values()):
                break
            assert time.monotonic() < deadline, links
            time.sleep(0.5)
    for link in links.values():
        assert link["status"] == "online" or link["reason"], link
    assert [links[f]["status"] for f in crashed["ingest_files"]] == ["online"] * 3
