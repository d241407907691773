"""Start `modelport serve` as a real subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.fakes.server import free_port


@dataclass
class RunningServer:
    base_url: str  # http://127.0.0.1:PORT
    data_dir: Path
    admin_key: str
    process: subprocess.Popen[bytes]
    log_path: Path
    database_url: str = ""

    @property
    def api_url(self) -> str:
        return self.base_url + "/v1"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


@contextmanager
def run_server(
    data_dir: Path,
    *,
    config: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    port: int | None = None,
    extra_args: list[str] | None = None,
    ready_timeout: float = 60.0,
) -> Iterator[RunningServer]:
    """Run the server until the block ends; yields once `/health` answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [sys.executable, "-m", "modelport", "serve", "--port", str(port)]
    # info: the tests read the JSON access lines
    args += ["--data-dir", str(data_dir), "--log-level", "info"]
    if config is not None:
        args += ["--config", str(write_config(data_dir / "config.yaml", config))]
    args += extra_args or []
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPORT_")}
    child_env.update(env or {})
    log_path = data_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=child_env)
    database_url = child_env.get(
        "MODELPORT_DATABASE_URL", f"sqlite+aiosqlite:///{(data_dir / 'modelport.db').resolve()}"
    )
    server = RunningServer(
        f"http://127.0.0.1:{port}", data_dir, "", process, log_path, database_url
    )
    try:
        _wait_ready(server, ready_timeout)
        key_file = data_dir / "admin_key"
        server.admin_key = key_file.read_text().strip() if key_file.exists() else ""
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_ready(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if httpx.get(server.base_url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server not ready after {timeout}s:\n{server.log()}")
