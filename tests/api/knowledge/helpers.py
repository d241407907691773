"""A small client for the files and knowledge-base API, and the documents the tests upload."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import httpx

from tests.support.server import RunningServer

ENGLISH_DOC = (
    "# Travel policy\n\n"
    "Employees who travel for work book trains and flights through the Skyline portal. "
    "Economy class is the rule for flights shorter than six hours.\n\n"
    "## Meals\n\n"
    "The daily meal allowance on business trips is 45 euros, paid with the expense report.\n"
)
OTHER_ENGLISH_DOC = (
    "Office plants are watered every Tuesday by the facilities team. "
    "The rooftop garden grows tomatoes and basil in summer.\n"
)
CHINESE_DOC = (
    "员工手册\n\n"
    "第一章 年假\n员工每年享有十五天带薪年假，年假须提前两周向人事部申请。\n\n"
    "第二章 报销\n差旅报销须在出差结束后三十天内提交，并附上发票原件。\n\n"
    "第三章 办公\n公司食堂每天早上八点开放，午餐供应到下午两点。\n"
)
SMALL_SPLIT = {"chunk_max_len": 200, "chunk_overlap_len": 20}


class KbApi:
    """httpx calls as one API key."""

    def __init__(self, server: RunningServer, key: str | None = None) -> None:
        self.server = server
        self.key = key or server.admin_key
        self.http = httpx.Client(
            base_url=server.api_url,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=120,
        )

    def upload(
        self, name: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> httpx.Response:
        files = {"file": (name, data, content_type)}
        return self.http.post("/files", files=files, data={"purpose": "knowledge-base"})

    def upload_ok(self, name: str, data: bytes | str) -> str:
        raw = data.encode() if isinstance(data, str) else data
        response = self.upload(name, raw)
        assert response.status_code == 200, response.text
        file_id: str = response.json()["id"]
        return file_id

    def create_kb(self, name: str = "kb", **fields: Any) -> str:
        body = {"name": name, "split_config": SMALL_SPLIT, **fields}
        response = self.http.post("/kbs", json=body)
        assert response.status_code == 200, response.text
        kb_id: str = response.json()["id"]
        return kb_id

    def attach(self, kb_id: str, *file_ids: str) -> httpx.Response:
        return self.http.post(f"/kbs/{kb_id}/files", json={"file_ids": list(file_ids)})

    def kb_files(self, kb_id: str) -> dict[str, dict[str, Any]]:
        response = self.http.get(f"/kbs/{kb_id}/files")
        assert response.status_code == 200, response.text
        return {f["id"]: f for f in response.json()["data"]}

    def wait_done(self, kb_id: str, timeout: float = 90.0) -> dict[str, dict[str, Any]]:
        """Poll until no attachment is still `init` or `parsing`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            files = self.kb_files(kb_id)
            if all(f["status"] in ("online", "fail") for f in files.values()):
                return files
            time.sleep(0.2)
        raise AssertionError(f"ingestion did not finish: {self.kb_files(kb_id)}")

    def kb_with(
        self, *docs: tuple[str, str | bytes], split: dict[str, int] | None = None
    ) -> tuple[str, list[str]]:
        """A knowledge base holding `docs` (name, content), all online."""
        kb_id = self.create_kb(split_config=split or SMALL_SPLIT)
        file_ids = [self.upload_ok(name, content) for name, content in docs]
        assert self.attach(kb_id, *file_ids).status_code == 200
        statuses = self.wait_done(kb_id)
        assert {f["status"] for f in statuses.values()} == {"online"}, statuses
        return kb_id, file_ids

    def chat(self, kb_ids: list[str], question: str, **body: Any) -> httpx.Response:
        payload = {
            "model": "smollm2-135m-instruct",
            "messages": [{"role": "user", "content": question}],
            "max_tokens": 2,
            "knowledge_base": {"ids": kb_ids},
            **body,
        }
        return self.http.post("/chat/completions", json=payload)


def new_owner_key(server: RunningServer, owner: str = "other") -> str:
    """A key for a second owner, made through the admin API."""
    response = httpx.post(
        server.base_url + "/admin/keys",
        json={"name": "second", "owner": owner},
        headers={"Authorization": f"Bearer {server.admin_key}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def indexed_chunks(data_dir: Path, file_id: str, kb_id: str | None = None) -> int:
    """How many chunks of a file the server's index holds (read straight from its SQLite)."""
    db = apsw.Connection(str(data_dir / "knowledge.sqlite3"), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        sql = "SELECT count(*) FROM chunks WHERE file_id = ?"
        params: tuple[str, ...] = (file_id,)
        if kb_id is not None:
            sql, params = sql + " AND kb_id = ?", (file_id, kb_id)
        row = db.execute(sql, params).fetchone()
        return int(row[0]) if row else 0
    finally:
        db.close()


def sse_chunks(lines: Iterator[str]) -> list[dict[str, Any]]:
    """The JSON payloads of a raw SSE stream, up to `[DONE]` (which must come)."""
    chunks: list[dict[str, Any]] = []
    for line in lines:
        if not line.startswith("data: "):
            continue
        payload = line[len("data: ") :]
        if payload == "[DONE]":
            return chunks
        chunks.append(json.loads(payload))
    raise AssertionError("the stream ended without [DONE]")
