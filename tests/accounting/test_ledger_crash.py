"""`kill -9` right after an answer: the restarted server still has the request's usage row."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import httpx

from tests.support.ledger import usage_rows
from tests.support.server import run_server

MODEL = "smollm2-135m-instruct"


def test_usage_of_an_answered_request_survives_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"MODELPORT_LEDGER_FLUSH_SECONDS": "10"}  # nothing reaches the database in time
    request_id = "crash-" + uuid.uuid4().hex
    with run_server(data_dir, env=env) as server:
        body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
        reply = httpx.post(
            server.api_url + "/chat/completions",
            json=body,
            timeout=60,
            headers={"Authorization": f"Bearer {server.admin_key}", "X-Request-ID": request_id},
        )
        assert reply.status_code == 200
        server.kill(signal.SIGKILL)
        assert usage_rows(server.database_url, request_id, wait=0) == []
        database_url = server.database_url
    with run_server(data_dir, env=env):
        (row,) = usage_rows(database_url, request_id)
    assert row["completion_tokens"] == reply.json()["usage"]["completion_tokens"] == 3
    assert row["status"] == 200
