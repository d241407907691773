"""A configured GGUF is served under its own name; a full engine queue answers 503."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import llama_cpp as ll
import openai
import pytest

from modelport.engine.native import init_backend
from modelport.settings import default_gguf_path
from tests.support.server import RunningServer, run_server


@pytest.fixture(scope="module")
def other_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second, different GGUF file: the default weights requantised to Q8_0."""
    init_backend()
    target = tmp_path_factory.mktemp("gguf") / "smollm2-q8_0.gguf"
    params = ll.llama_model_quantize_default_params()
    params.ftype = 7  # LLAMA_FTYPE_MOSTLY_Q8_0
    params.allow_requantize = True
    status = ll.llama_model_quantize(
        default_gguf_path().encode(), str(target).encode(), ctypes.byref(params)
    )
    assert status == 0
    return target


@pytest.fixture(scope="module")
def configured(
    tmp_path_factory: pytest.TempPathFactory, other_gguf: Path
) -> Iterator[RunningServer]:
    config = {
        "models": [
            {
                "name": "smol-q8",
                "owned_by": "me",
                "channels": [{"provider": "local", "model_path": str(other_gguf)}],
            },
        ],
        "engine": {"slots": 1, "max_queue": 0, "context_per_slot": 512},
    }
    with run_server(tmp_path_factory.mktemp("configured"), config=config) as running:
        yield running


def test_configured_gguf_is_listed_and_served(configured: RunningServer) -> None:
    client = openai.OpenAI(base_url=configured.api_url, api_key=configured.admin_key, max_retries=0)
    listed = [(m.id, m.owned_by) for m in client.models.list()]
    assert listed[:1] == [("smol-q8", "me")]  # then the embedding models
    reply = client.chat.completions.create(
        model="smol-q8", messages=[{"role": "user", "content": "Hi"}], max_tokens=3
    )
    assert reply.model == "smol-q8" and reply.usage is not None
    assert reply.usage.completion_tokens <= 3


def test_full_engine_answers_503_with_retry_after(configured: RunningServer) -> None:
    headers = {"Authorization": f"Bearer {configured.admin_key}"}
    long_body = {
        "model": "smol-q8",
        "messages": [{"role": "user", "content": "Tell a story."}],
        "max_tokens": 200,
        "stream": True,
        "logit_bias": {"2": -100},
    }
    started, release = threading.Event(), threading.Event()

    def occupy() -> None:
        with httpx.stream(
            "POST",
            configured.api_url + "/chat/completions",
            json=long_body,
            headers=headers,
            timeout=60,
        ) as response:
            for line in response.iter_lines():
                if '"content"' in line:
                    started.set()
                if release.is_set():
                    break

    holder = threading.Thread(target=occupy)
    holder.start()
    assert started.wait(30)
    body = {"model": "smol-q8", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    try:
        busy = httpx.post(
            configured.api_url + "/chat/completions", json=body, headers=headers, timeout=30
        )
    finally:
        release.set()
        holder.join(timeout=30)
    assert busy.status_code == 503, busy.text
    assert int(busy.headers["retry-after"]) >= 1
    assert busy.json()["error"]["code"] == "engine_overloaded"
    deadline = time.monotonic() + 10  # the slot frees once the first client has gone
    while time.monotonic() < deadline:
        again = httpx.post(
            configured.api_url + "/chat/completions", json=body, headers=headers, timeout=30
        )
        if again.status_code == 200:
            break
        time.sleep(0.1)
    assert again.status_code == 200
