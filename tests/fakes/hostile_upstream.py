"""An OpenAI-shaped upstream that misbehaves below HTTP, on raw sockets, in a background thread.

Each path prefix picks a behaviour (a channel's base URL is `{url}/{mode}/v1`), and every
request read whole counts as an arrival of its mode, so a test can see how often a gateway
sent a request:
- `ok`: a normal completion, keep-alive.
- `read-close`: read the request, wait `close_delay`, close without answering.
- `second-close`: answer the first request of each connection, read-and-close the second.
- `gzip-bomb`, `gzip-bomb-stream`: a small gzip body that inflates to `BOMB_BYTES` of zeros.
- `huge-body`: a 200 JSON answer of `HUGE_BYTES`.
- `huge-header`: a header line that never ends (until the client leaves).
- `endless-stream`: text chunks forever.
- `usage-negative`, `usage-huge` (and `-stream`): a normal answer reporting absurd usage.
- `echo-key`: a 401 whose message quotes the Authorization header it got.
- `retry-after-utf8`: a 429 whose Retry-After is not text a header can carry.
"""

from __future__ import annotations

import asyncio
import json
import threading
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

BOMB_BYTES = 256 * 1024 * 1024
HUGE_BYTES = 40 * 1024 * 1024
_MiB = b"\0" * (1024 * 1024)


@cache
def gzip_bomb() -> bytes:
    """`BOMB_BYTES` of zeros, gzipped (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(_MiB) for _ in range(BOMB_BYTES // len(_MiB))]
    return b"".join([*parts, packer.flush()])


ABSURD_USAGE = {
    "usage-negative": {"prompt_tokens": -1_000_000, "completion_tokens": -5, "total_tokens": -1},
    "usage-huge": {"prompt_tokens": 2**70, "completion_tokens": 2**70, "total_tokens": 2**71},
}


def completion(text: str = "fine", usage: dict[str, int] | None = None) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-hostile",
            "object": "chat.completion",
            "created": 1,
            "model": "hostile",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage or {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }
    ).encode()


def _chunk_event(
    text: str | None, finish: str | None = None, usage: dict[str, int] | None = None
) -> bytes:
    delta = {"content": text} if text is not None else {}
    chunk: dict[str, object] = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "hostile",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        chunk["choices"] = []
        chunk["usage"] = usage
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class HostileUpstream:
    def __init__(self) -> None:
        self.arrivals: Counter[str] = Counter()
        self.close_delay = 0.0
        self.last_authorization = ""
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None

    async def _read_request(self, reader: asyncio.StreamReader) -> str | None:
        """The mode of the next request, read whole (None when the client closed first); the
        request's Authorization header is kept in `last_authorization`."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
            if name.strip().lower() == "authorization":
                self.last_authorization = value.strip()
        await reader.readexactly(length)
        mode = path.strip("/").split("/")[0]
        self.arrivals[mode] += 1
        return mode

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        try:
            while (mode := await self._read_request(reader)) is not None:
                served += 1
                if mode == "read-close" or (mode == "second-close" and served > 1):
                    await asyncio.sleep(self.close_delay)
                    return
                if not await self._answer(mode, writer):
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def _answer(self, mode: str, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must close after it."""
        if mode in ("ok", "spare", "second-close"):
            body = completion()
            writer.write(_head("200 OK", _json_headers(len(body))) + body)
        elif mode in ABSURD_USAGE:
            body = completion(usage=ABSURD_USAGE[mode])
            writer.write(_head("200 OK", _json_headers(len(body))) + body)
        elif mode.removesuffix("-stream") in ABSURD_USAGE:
            events = _chunk_event("fine") + _chunk_event(None, "stop")
            events += _chunk_event(None, usage=ABSURD_USAGE[mode.removesuffix("-stream")])
            body = events + b"data: [DONE]\n\n"
            headers = {"Content-Type": "text/event-stream", "Content-Length": str(len(body))}
            writer.write(_head("200 OK", headers) + body)
        elif mode == "echo-key":
            message = f"Incorrect API key provided: {self.last_authorization}."
            body = json.dumps({"error": {"message": message, "code": "invalid_api_key"}})
            writer.write(_head("401 Unauthorized", _json_headers(len(body))) + body.encode())
        elif mode == "retry-after-utf8":
            body = b'{"error": {"message": "slow down", "code": "rate_limited"}}'
            head = _head("429 Too Many Requests", _json_headers(len(body)))
            head = head[:-2] + "Retry-After: 五秒\r\n\r\n".encode()
            writer.write(head + body)
        elif mode == "gzip-bomb":
            body = gzip_bomb()
            headers = {**_json_headers(len(body)), "Content-Encoding": "gzip"}
            writer.write(_head("200 OK", headers) + body)
        elif mode == "gzip-bomb-stream":
            body = gzip_bomb()
            headers = {"Content-Type": "text/event-stream", "Content-Encoding": "gzip"}
            writer.write(_head("200 OK", {**headers, "Content-Length": str(len(body))}) + body)
        elif mode == "huge-body":
            writer.write(_head("200 OK", _json_headers(HUGE_BYTES)) + b'{"pad": "')
            for _ in range(HUGE_BYTES // len(_MiB)):
                writer.write(b" " * len(_MiB))
                await writer.drain()
        elif mode == "huge-header":
            writer.write(b"HTTP/1.1 200 OK\r\nX-Huge: ")
            while True:
                writer.write(b"a" * 65536)
                await writer.drain()
        elif mode == "endless-stream":
            writer.write(_head("200 OK", {"Content-Type": "text/event-stream"}))
            while True:
                writer.write(_chunk_event("more "))
                await writer.drain()
                await asyncio.sleep(0)
        await writer.drain()
        return mode in ("ok", "spare", "second-close", "echo-key", "retry-after-utf8") or (
            mode.removesuffix("-stream") in ABSURD_USAGE
        )

    @contextmanager
    def running(self) -> Iterator[str]:
        started = threading.Event()

        async def start() -> None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            port = self._server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            started.set()

        thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(start(), self._loop)
        started.wait(10)
        try:
            yield self.url
        finally:
            if self._server is not None:
                self._loop.call_soon_threadsafe(self._server.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
            thread.join(timeout=10)


def _json_headers(length: int) -> dict[str, str]:
    return {"Content-Type": "application/json", "Content-Length": str(length)}
