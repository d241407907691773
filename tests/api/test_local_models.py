"""Several local models, as Ollama serves them: loaded on first use, unloaded after an idle
keep_alive, within a memory budget; `/v1/models` and `/health` say which are loaded.

Real servers with two real models (SmolLM2's GGUF under two pulled names), the official SDK.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.support.server import run_server

from .local_models_support import (
    DEFAULT,
    SMALL_ENGINE,
    cards,
    catalogue,
    chat,
    client,
    loaded,
    loads_of,
    pull_copies,
    wait_until,
)


def test_a_model_loads_on_first_use_and_unloads_after_its_keep_alive(tmp_path: Path) -> None:
    pull_copies(tmp_path, "alpha", "beta")
    config = {"models": catalogue(alpha=2, beta=None), "engine": SMALL_ENGINE}
    with run_server(tmp_path, config=config) as server:
        # The default model is preloaded at start-up; the others wait for a request.
        state = loaded(server)
        assert (state[DEFAULT], state["alpha"], state["beta"]) == (True, False, False)
        listed = cards(server)
        assert listed["alpha"]["object"] == "model" and "expires_at" not in listed["alpha"]
        assert listed[DEFAULT]["expires_at"] > time.time() + 200  # the default 300 s

        chat(server, "alpha")
        alpha = cards(server)["alpha"]
        assert alpha["loaded"] is True and alpha["size"] > 98_000_000
        assert time.time() < alpha["expires_at"] <= time.time() + 3  # its own 2 s keep_alive
        assert not loaded(server)["beta"]
        engines = httpx.get(server.base_url + "/health", timeout=5).json()["engines"]
        assert any(e["model"].endswith("alpha.gguf") and e["expires_at"] for e in engines)

        wait_until(lambda: not loaded(server)["alpha"], timeout=10)  # idle 2 s: unloaded
        engines = httpx.get(server.base_url + "/health", timeout=5).json()["engines"]
        assert not any(e["model"].endswith("alpha.gguf") for e in engines)
        assert loaded(server)[DEFAULT]  # 300 s not over

        chat(server, "alpha")  # loaded again, and answers
        assert loaded(server)["alpha"] and loads_of(server, "alpha") == 2


def test_concurrent_first_requests_load_the_model_once(tmp_path: Path) -> None:
    pull_copies(tmp_path, "alpha")
    config = {"models": catalogue(alpha=None), "engine": SMALL_ENGINE}
    with run_server(tmp_path, config=config) as server:
        replies: list[str] = []
        threads = [
            threading.Thread(target=lambda: replies.append(chat(server, "alpha"))) for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        ticks = 0
        while any(t.is_alive() for t in threads):  # the loop answers while the model loads
            assert httpx.get(server.base_url + "/health", timeout=2).status_code == 200
            ticks += 1
            time.sleep(0.02)
        assert len(replies) == 4 and loads_of(server, "alpha") == 1


def test_the_budget_unloads_the_least_recently_used_idle_model(tmp_path: Path) -> None:
    pull_copies(tmp_path, "alpha", "beta")
    # Each model costs ~110 MB: 160 MiB fits one, not two.
    engine = {**SMALL_ENGINE, "memory_budget_mb": 160}
    config = {"models": catalogue(alpha=None, beta=None), "engine": engine}
    with run_server(tmp_path, config=config) as server:
        assert loaded(server)[DEFAULT]
        chat(server, "alpha")
        state = loaded(server)
        assert state["alpha"] and not state[DEFAULT] and not state["beta"]
        chat(server, "beta")
        state = loaded(server)
        assert state["beta"] and not state["alpha"] and not state[DEFAULT]
        chat(server, DEFAULT)
        assert [name for name, on in loaded(server).items() if on] == [DEFAULT]


def test_a_request_waits_for_a_busy_model_then_its_own_loads(tmp_path: Path) -> None:
    """With room for one model, a request for beta while alpha streams waits for the stream
    to end (never cut), then alpha unloads and beta loads; both answer in full."""
    pull_copies(tmp_path, "alpha", "beta")
    engine = {**SMALL_ENGINE, "memory_budget_mb": 160, "keep_alive": 0}
    config = {"models": catalogue(alpha=None, beta=None), "engine": engine}
    with run_server(tmp_path, config=config) as server:
        sdk = client(server)
        stream = sdk.chat.completions.create(
            model="alpha",
            messages=[{"role": "user", "content": "Count from one to fifty in words."}],
            max_tokens=120,
            temperature=0,
            stream=True,
        )
        first = next(iter(stream))  # alpha is loaded and busy
        assert first.choices[0].delta is not None
        beta: list[str] = []
        waiter = threading.Thread(target=lambda: beta.append(chat(server, "beta")))
        waiter.start()
        time.sleep(0.5)
        assert loaded(server)["alpha"] and not loaded(server)["beta"]
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text  # the stream went on to its end while beta waited
        waiter.join(timeout=60)
        assert beta and beta[0]
        # keep_alive 0: each unloads right after its request, and a request during the
        # unload (or the load) still gets its answer
        for _ in range(3):
            replies: list[str] = []
            pair = [
                threading.Thread(target=lambda m=m, r=replies: r.append(chat(server, m)))
                for m in ("alpha", "alpha", "beta")
            ]
            for thread in pair:
                thread.start()
            for thread in pair:
                thread.join(timeout=60)
            assert len(replies) == 3
        wait_until(lambda: not any(loaded(server).values()))
