"""The stream's raw bytes follow the reference format exactly."""

from __future__ import annotations

import json

import httpx

from tests.support.server import RunningServer


def raw_stream(server: RunningServer, body: dict[str, object]) -> bytes:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    with httpx.stream(
        "POST", server.api_url + "/chat/completions", json=body, headers=headers, timeout=60
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return response.read()


def events(raw: bytes) -> list[str]:
    assert raw.endswith(b"\n\n")
    frames = raw.decode().split("\n\n")[:-1]
    for frame in frames:
        assert frame.startswith("data: ") and "\n" not in frame, frame
    return [frame[len("data: ") :] for frame in frames]


def test_stream_bytes_match_the_reference(server: RunningServer, model_name: str) -> None:
    body = {
        "model": model_name,
        "messages": [{"role": "user", "content": "世界第一高峰是?"}],
        "temperature": 0.3,
        "max_tokens": 6,
        "stream": True,
    }
    data = events(raw_stream(server, body))
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and next(iter(ids)).startswith("chatcmpl-")
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["model"] == model_name and isinstance(chunk["created"], int)
        assert [c["index"] for c in chunk["choices"]] == [0]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    finish = chunks[-1]
    assert finish["choices"][0]["finish_reason"] == "length"
    usage = finish["usage"]
    assert usage["completion_tokens"] == 6
    assert usage["total_tokens"] == usage["prompt_tokens"] + 6
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert all("usage" not in c or c["usage"] is None for c in chunks[:-1])


def test_include_usage_adds_a_usage_only_chunk(server: RunningServer, model_name: str) -> None:
    body = {
        "model": model_name,
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 3,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    data = events(raw_stream(server, body))
    last = json.loads(data[-2])
    assert data[-1] == "[DONE]"
    assert last["choices"] == [] and last["usage"]["completion_tokens"] == 3
    finish = json.loads(data[-3])
    assert finish["choices"][0]["finish_reason"] and finish["usage"] == last["usage"]
