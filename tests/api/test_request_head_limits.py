"""Bounds on a request's head, before anything reads it: a header past the size limit gets
431 and a closed connection; a head that trickles in slower than the limit is cut off
(slowloris). Without them one client made the server buffer a 120 MB header and kept 200
half-sent connections open for as long as it liked."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import RunningServer, run_server

MAX_HEAD = 16 * 1024
HEAD_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    config = {
        "models": [
            {
                "name": "m",
                "channels": [{"provider": "openai_compat", "base_url": "http://127.0.0.1:9/v1"}],
            }
        ],
        "server": {"max_head_bytes": MAX_HEAD, "head_timeout": HEAD_TIMEOUT},
    }
    data: Path = tmp_path_factory.mktemp("bounded-head")
    with run_server(data, config=config) as running:
        yield running


def _connect(server: RunningServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    parts = []
    while chunk := sock.recv(65536):
        parts.append(chunk)
    return b"".join(parts)


def test_a_huge_header_gets_431_and_a_closed_connection(bounded: RunningServer) -> None:
    started = time.monotonic()
    with _connect(bounded) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Huge: ")
        try:
            for _ in range(1024):  # up to 64 MB, if nobody stops it
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection: expected
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:200]
    assert b'"code":"request_header_fields_too_large"' in answer
    assert time.monotonic() - started < 5
    assert httpx.get(bounded.base_url + "/health").status_code == 200


def test_heads_that_never_finish_are_cut_off(bounded: RunningServer) -> None:
    socks = [_connect(bounded) for _ in range(100)]
    try:
        for sock in socks:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        time.sleep(HEAD_TIMEOUT + 1.0)
        for sock in socks:
            sock.settimeout(2)
            assert sock.recv(1024) == b""  # closed by the server
    finally:
        for sock in socks:
            sock.close()
    assert httpx.get(bounded.base_url + "/health").status_code == 200


def test_keep_alive_requests_under_the_limits_are_served(bounded: RunningServer) -> None:
    with httpx.Client(base_url=bounded.base_url) as client:
        for _ in range(3):
            assert client.get("/health", headers={"X-Fill": "b" * 8000}).status_code == 200
            time.sleep(HEAD_TIMEOUT * 1.5)  # idle between requests is not a slow head
        assert client.get("/health").status_code == 200
