"""What one request carries cannot stall everyone else: a prompt that cannot fit the local
model is refused before it is rendered, rendering runs off the event loop, a big body is
validated off it, and a request may carry at most 10,000 messages. Meanwhile `/health`, on
the same event loop, keeps answering (before: stalls of 5-6 s, and 45 s for an unrelated
request)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.server import RunningServer

MODEL = "smollm2-135m-instruct"
CONTEXT = 8 * 1024  # the default engine: 8 slots of 1024 tokens, shared by whoever needs them


def _hostile(size: str) -> dict[str, Any]:
    if size == "many":
        messages = [{"role": "user", "content": f"m{i}"} for i in range(9_000)]
    elif size == "huge":
        messages = [{"role": "user", "content": "x" * 18_000_000}]
    else:
        messages = [{"role": "user", "content": "y"} for _ in range(100_000)]
    return {"model": MODEL, "messages": messages, "max_tokens": 4}


def _while_probing(
    server: RunningServer, work: Callable[[], httpx.Response]
) -> tuple[httpx.Response, float]:
    """`work`'s answer, and the slowest `/health` answer while it ran."""
    slowest = 0.0
    done = threading.Event()
    answer: list[httpx.Response] = []

    def run() -> None:
        try:
            answer.append(work())
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    with httpx.Client(base_url=server.base_url, timeout=30) as probe:
        while not done.is_set():
            started = time.perf_counter()
            assert probe.get("/health").status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.02)
    thread.join()
    return answer[0], slowest


@pytest.mark.parametrize(
    ("size", "code", "message"),
    [
        (
            "many",
            "context_length_exceeded",
            f"9000 messages cannot fit this model's context of {CONTEXT} tokens.",
        ),
        (
            "huge",
            "context_length_exceeded",
            f"The messages (18000000 characters) cannot fit this model's context of "
            f"{CONTEXT} tokens.",
        ),
        # Refused before validation, which holds the GIL (half a second for 100,000).
        ("most", "too_many_messages", "A request may carry at most 10,000 messages."),
    ],
)
def test_a_prompt_that_cannot_fit_is_refused_without_stalling_others(
    server: RunningServer, size: str, code: str, message: str
) -> None:
    body = _hostile(size)
    headers = {"Authorization": f"Bearer {server.admin_key}"}

    def send() -> httpx.Response:
        return httpx.post(
            server.api_url + "/chat/completions", json=body, headers=headers, timeout=120
        )

    response, slowest = _while_probing(server, send)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (code, message)
    assert slowest < 1.0, f"/health waited {slowest:.2f}s"
