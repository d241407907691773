"""`modelport chat` streams an answer from a running server to the terminal."""

from __future__ import annotations

import subprocess
import sys

from tests.support.server import RunningServer


def test_chat_command_streams_an_answer(server: RunningServer) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelport",
            "chat",
            "Say hello.",
            "--max-tokens",
            "6",
            "--base-url",
            server.api_url,
            "--api-key",
            server.admin_key,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_chat_command_reports_a_bad_key(server: RunningServer) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelport",
            "chat",
            "Hi",
            "--base-url",
            server.api_url,
            "--api-key",
            "sk-" + "0" * 48,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "invalid_api_key" in result.stderr
