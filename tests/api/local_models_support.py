"""Two real local models for the several-models tests: SmolLM2's GGUF hard-linked (or copied)
into a models directory under two names, as `modelport pull` would leave them."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import openai

from modelport.hub.store import write_record
from modelport.settings import DEFAULT_LOCAL_MODEL, default_gguf_path
from tests.support.server import RunningServer

# Small KV caches: each model costs its 98 MB file plus ~12 MB
SMALL_ENGINE: dict[str, Any] = {"slots": 2, "context_per_slot": 256}
DEFAULT = DEFAULT_LOCAL_MODEL


def pull_copies(data_dir: Path, *names: str) -> Path:
    """`<data_dir>/models/NAME.gguf` for each name, recorded as pulled."""
    models = data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    source = default_gguf_path()
    for name in names:
        path = models / f"{name}.gguf"
        if not path.exists():
            try:
                os.link(source, path)
            except OSError:
                shutil.copyfile(source, path)
        write_record(path, "0" * 64, "test copy of " + Path(source).name)
    return models


def catalogue(**keep_alive: float | None) -> list[dict[str, Any]]:
    """The default model first, then one local model per `pulled:NAME` (own keep_alive)."""
    models: list[dict[str, Any]] = [{"name": DEFAULT, "channels": [{"provider": "local"}]}]
    for name, seconds in keep_alive.items():
        channel: dict[str, Any] = {"provider": "local", "model_path": f"pulled:{name}"}
        if seconds is not None:
            channel["options"] = {"keep_alive": seconds}
        models.append({"name": name, "channels": [channel]})
    return models


def client(server: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=server.admin_key, max_retries=0)


def chat(server: RunningServer, model: str) -> str:
    reply = client(server).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say hi."}], max_tokens=4
    )
    assert reply.choices[0].message.content is not None
    return reply.choices[0].message.content


def cards(server: RunningServer) -> dict[str, dict[str, Any]]:
    """`/v1/models` as the SDK parses it (extra fields kept), by id."""
    page = client(server).models.list()
    return {m.id: m.model_dump() for m in page.data}


def loaded(server: RunningServer) -> dict[str, bool]:
    return {name: bool(card.get("loaded")) for name, card in cards(server).items()}


def wait_until(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def admin(server: RunningServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.admin_key}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=60)


def loads_of(server: RunningServer, name: str) -> int:
    """How many times the server's log says it loaded `name`.gguf."""
    return len(re.findall(rf"loaded \S*/{re.escape(name)}\.gguf \(", server.log()))
