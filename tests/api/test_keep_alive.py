"""An idle keep-alive connection outlives the client's pool (httpx keeps one 5 s), so the
client, not the server, is the one to close it."""

from __future__ import annotations

import socket
import time

from tests.support.server import RunningServer


def _exchange(sock: socket.socket, host: str) -> bytes:
    sock.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    return sock.recv(65536)


def test_an_idle_connection_is_still_open_after_the_clients_pool_expiry(
    server: RunningServer,
) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        assert _exchange(sock, host).startswith(b"HTTP/1.1 200")
        time.sleep(6)  # past httpx's keepalive_expiry and uvicorn's default of 5 s
        assert _exchange(sock, host).startswith(b"HTTP/1.1 200")  # not b"": still open
