"""Start and stop the two servers that bench/engine_vs_llama_server.py compares."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m-instruct"
LLAMA_VERSION = "0.3.36"


@dataclass
class Server:
    name: str
    base_url: str
    key: str
    process: subprocess.Popen[bytes]
    extra_body: dict[str, object] = field(default_factory=dict)  # fields only this one takes

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def llama_server_binary(path: str | None) -> str:
    """The given binary, else the cached build (scripts/llama-server.sh builds it once)."""
    if path:
        return path
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    cached = cache / "modelport" / "llama-server" / LLAMA_VERSION / "llama-server"
    if cached.is_file():
        return str(cached)
    out = subprocess.run(
        [str(ROOT / "scripts" / "llama-server.sh")], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def engine_threads() -> tuple[int, int]:
    """modelport's default engine threads (decode, batch), which llama-server is given too."""
    from modelport.engine.config import EngineSettings

    settings = EngineSettings()
    return settings.n_threads, settings.n_threads_batch


def gguf_path() -> str:
    from modelport.settings import default_gguf_path

    return default_gguf_path()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait(server: Server, log: Path, timeout: float = 120.0) -> None:
    """Until the server answers a one-token chat (the model loaded, the first decode done)."""
    deadline = time.monotonic() + timeout
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited early:\n{log.read_text(errors='replace')}")
        try:
            if server.name == "modelport" and not server.key:
                key_file = log.parent / "admin_key"
                if key_file.exists():
                    server.key = key_file.read_text().strip()
            if server.key or server.name != "modelport":
                reply = httpx.post(
                    server.base_url + "/v1/chat/completions",
                    json=body,
                    headers=server.headers,
                    timeout=30,
                )
                if reply.status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready after {timeout}s")


@contextmanager
def run_modelport() -> Iterator[Server]:
    """`modelport serve` with its default config on a fresh data dir."""
    with tempfile.TemporaryDirectory(prefix="mp-vs-llama-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
        log = data_dir / "server.log"
        args = [sys.executable, "-m", "modelport", "serve", "--port", str(port)]
        args += ["--data-dir", str(data_dir), "--log-level", "warning"]
        with open(log, "wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        server = Server("modelport", f"http://127.0.0.1:{port}", "", process)
        try:
            _wait(server, log)
            yield server
        finally:
            _stop(process)


def llama_server_args(
    binary: str, port: int, slots: int, context_per_slot: int, threads_batch: int | None
) -> list[str]:
    threads, default_batch = engine_threads()
    threads_batch = threads_batch or default_batch
    return [
        binary,
        "--model",
        gguf_path(),
        "--alias",
        MODEL,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--threads",
        str(threads),
        "--threads-batch",
        str(threads_batch),
        "--parallel",
        str(slots),
        "--ctx-size",
        str(slots * context_per_slot),
        "--batch-size",
        "512",  # modelport's engine.batch_size
        "--cont-batching",
        "--no-webui",
    ]


@contextmanager
def run_llama_server(
    binary: str, threads_batch: int | None = None, slots: int = 8, context_per_slot: int = 1024
) -> Iterator[Server]:
    """llama.cpp's server on the same GGUF and threads; prompt cache on by default (the
    multi-turn measurement turns it off per request with `"cache_prompt": false`)."""
    with tempfile.TemporaryDirectory(prefix="llama-vs-mp-") as tmp:
        port = free_port()
        log = Path(tmp) / "server.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                llama_server_args(binary, port, slots, context_per_slot, threads_batch),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Server(
            "llama-server",
            f"http://127.0.0.1:{port}",
            "",
            process,
            {"ignore_eos": True},
        )
        try:
            _wait(server, log)
            yield server
        finally:
            _stop(process)


def version_of(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    return " ".join((out.stdout + out.stderr).split())[:200]
