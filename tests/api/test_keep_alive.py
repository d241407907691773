"""An idle keep-alive connection outlives the client's pool (httpx keeps one 5 s), so the
client, not the server, is the one to close it."""

from __future__ import annotations

import socket
import time

from tests.support.server import RunningServer


def _exchange(sock: socket.socket, host: str) -> bytes:
    """One whole response (head and Content-Length body: they may come in two reads, and a
    half-read answer would leave its body to pass for the next one); b"" once closed."""
    sock.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        data = sock.recv(65536)
        if not data:
            return received
        received += data
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        data = sock.recv(65536)
        if not data:
            break
        body += data
    return head + b"\r\n\r\n" + body


def test_an_idle_connection_is_still_open_after_the_clients_pool_expiry(
    server: RunningServer,
) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        assert _exchange(sock, host).startswith(b"HTTP/1.1 200")
        time.sleep(6)  # past httpx's keepalive_expiry and uvicorn's default of 5 s
        assert _exchange(sock, host).startswith(b"HTTP/1.1 200")  # not b"": still open
