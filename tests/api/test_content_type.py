"""JSON bodies sent without `Content-Type`, or as curl's default `-d` type
(`application/x-www-form-urlencoded`), are read as JSON on the JSON API routes: the curl
examples in the docs work as pasted."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.server import RunningServer

FORM = "application/x-www-form-urlencoded"  # what `curl -d` sends


@pytest.mark.parametrize("content_type", [None, FORM])
def test_json_body_without_json_content_type(
    server: RunningServer, model_name: str, content_type: str | None
) -> None:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    http = httpx.Client(base_url=server.base_url, headers=headers, timeout=60)
    calls = [
        (
            "/v1/chat/completions",
            {"model": model_name, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
        ),
        ("/v1/completions", {"model": model_name, "prompt": "1, 2,", "max_tokens": 2}),
        ("/v1/embeddings", {"model": "multilingual-e5-small", "input": "hello"}),
        ("/admin/keys", {"name": "curl", "owner": "curl"}),
    ]
    for path, body in calls:
        response = http.post(path, content=json.dumps(body).encode())  # raw bytes, as curl
        assert response.status_code in (200, 201), (path, response.text)
    broken = http.post("/v1/embeddings", content=b"model=x&input=y")
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
