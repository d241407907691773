"""The first admin key is shown once on a terminal, and never written into a log file."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.server import free_port
from tests.support.server import RunningServer


def test_key_is_shown_on_a_terminal(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelport",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "data"),
            "--log-level",
            "warning",
        ],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        key_file = tmp_path / "data" / "admin_key"
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
            if key_file.exists() and key_file.read_text().strip().encode() in seen:
                break
        assert key_file.exists()
        assert seen.count(key_file.read_text().strip().encode()) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        os.close(master)


def test_key_is_not_in_a_redirected_log(server: RunningServer) -> None:
    log = server.log()
    assert "admin_key" in log  # the file is named
    assert server.admin_key not in log
