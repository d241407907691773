"""A process killed (`kill -9`) while it streams an answer loses at most the last second of
that stream's usage: a stream under way journals what it has produced every second, and the
restart books the last such record of a stream that never got its final row as
`499 interrupted` (before: the row was lost, for local and upstream streams alike)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx

from tests.support.ledger import usage_rows
from tests.support.server import run_server

MODEL = "smollm2-135m-instruct"


def test_a_stream_cut_by_kill_9_is_booked_as_interrupted(tmp_path: Path) -> None:
    data = tmp_path / "data"
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Write a long story about a lighthouse."}],
        "max_tokens": 2000,
        "stream": True,
        "temperature": 0,
    }
    received = 0
    with run_server(data) as server:
        headers = {"Authorization": f"Bearer {server.admin_key}"}
        url = server.api_url + "/chat/completions"
        with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as response:
            request_id = response.headers["x-request-id"]
            started = time.monotonic()
            for line in response.iter_lines():
                if line.startswith("data: {"):
                    chunk = json.loads(line[6:])
                    received += sum(bool(c["delta"].get("content")) for c in chunk["choices"])
                if time.monotonic() - started > 3.5:  # three progress records written
                    server.kill(signal.SIGKILL)
                    break
        database_url = server.database_url
    assert received > 10, "the stream barely started"
    assert usage_rows(database_url, request_id, wait=0.5) == []  # nothing booked yet
    with run_server(data):  # the restart replays the journal
        rows = usage_rows(database_url, request_id)
    assert [(r["status"], r["error_code"], r["stream"]) for r in rows] == [
        (499, "interrupted", True)
    ]
    row = rows[0]
    # The engine counts exactly: the progress of the last second before the kill (at least
    # two seconds in) is below what the client had received, but not by much.
    assert not row["estimated"] and row["prompt_tokens"] > 10
    assert received // 3 <= row["completion_tokens"] <= received + 1
