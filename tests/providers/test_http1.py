"""modelport's HTTP/1.1 upstream client, against scripted servers: every byte on the wire is
the test's, so framing, reuse, failures and flow control are shown exactly."""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import trustme

from modelport.providers.http1 import Http1Pool, split_url
from modelport.providers.http1_response import HIGH_WATER
from modelport.providers.transport import Http1Transport, UpstreamClient

TIMEOUT = httpx.Timeout(2.0)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Script:
    """A server whose every connection runs `handler`; it counts connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.closed_by_client = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def request(self, reader: asyncio.StreamReader) -> bytes:
        """Read one request (head and Content-Length body); b"" when the client left."""
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        self.requests.append(head + body)
        return head + body


@asynccontextmanager
async def scripted(
    handler: Handler, tls: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[Script, str]]:
    script = Script(handler)
    server = await asyncio.start_server(script.serve, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    scheme = "https" if tls else "http"
    try:
        yield script, f"{scheme}://127.0.0.1:{port}/v1/chat?x=1"
    finally:
        server.close()


def answer(body: bytes, *headers: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body)
    return head + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def chunked(*parts: bytes) -> bytes:
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for part in parts:
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


async def post(pool: Http1Pool, url: str, body: bytes = b"{}") -> tuple[int, bytes]:
    response = await pool.request("POST", url, [(b"x-key", b"k")], body, TIMEOUT)
    try:
        return response.status, await response.read()
    finally:
        response.release()


def test_urls_are_split_into_origin_target_and_host() -> None:
    assert split_url("http://example.com/v1/chat?a=b") == (
        ("http", "example.com", 80),
        b"/v1/chat?a=b",
        b"example.com",
    )
    assert split_url("https://[::1]:8443") == (("https", "::1", 8443), b"/", b"[::1]:8443")
    with pytest.raises(httpx.ConnectError, match="absolute"):
        split_url("ftp://example.com/")
    with pytest.raises(httpx.ConnectError, match="invalid"):
        split_url("http://example.com:99999/")


async def test_request_bytes_and_a_length_delimited_answer() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        writer.write(answer(b'{"ok":1}', b"Content-Type: application/json"))
        await writer.drain()
        await reader.read()

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        assert await post(pool, url, b'{"a":1}') == (200, b'{"ok":1}')
        await pool.aclose()
    sent = script.requests[0]
    port = url.split(":")[2].split("/")[0]
    assert sent.startswith(b"POST /v1/chat?x=1 HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n" % port.encode())
    assert b"Content-Length: 7\r\n" in sent and b"x-key: k\r\n" in sent
    assert sent.endswith(b'\r\n\r\n{"a":1}')


async def test_chunked_and_read_to_close_bodies() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        if script.connections == 1:
            writer.write(chunked(b"data: 1\n\n", b"data: 2\n\n"))
        else:  # HTTP/1.0 style: no length, the body ends with the connection
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
            await writer.drain()
            writer.close()
            return
        await writer.drain()
        await script.request(reader)  # the client reuses the connection...
        writer.close()  # ...but we close it unanswered: it must try a fresh one

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        assert await post(pool, url) == (200, b"data: 1\n\ndata: 2\n\n")
        assert await post(pool, url) == (200, b"until the end")
        await pool.aclose()
    assert script.connections == 2 and len(script.requests) == 3


async def test_keep_alive_reuses_one_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await script.request(reader):
            writer.write(answer(b"hi"))
            await writer.drain()

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        for _ in range(5):
            assert await post(pool, url) == (200, b"hi")
        await pool.aclose()
    assert script.connections == 1 and len(script.requests) == 5


async def test_idle_connections_the_server_closes_leave_the_pool() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        writer.write(answer(b"once"))  # keep-alive by HTTP/1.1's default...
        await writer.drain()  # ...but the connection is closed right after

    async with scripted(handler) as (script, url):
        pool = Http1Pool(max_idle=2)
        for _ in range(3):
            assert await post(pool, url) == (200, b"once")
            await asyncio.sleep(0.05)  # the close arrives while the connection is idle
        assert pool.idle_connections == 0
        await pool.aclose()
    assert script.connections == 3 and len(script.requests) == 3  # no request met a dead one


async def test_a_fresh_connection_closed_unanswered_is_an_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)  # and close without a word

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        with pytest.raises(httpx.RemoteProtocolError):
            await post(pool, url)
        await pool.aclose()
    assert script.connections == 1  # not retried: nothing says the server did not act on it


async def test_a_cut_body_and_a_malformed_head_are_protocol_errors() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        if script.connections == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        else:
            writer.write(b"HTTP/1.1 two hundred\r\n\r\n")
        await writer.drain()

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        with pytest.raises(httpx.RemoteProtocolError, match="closed"):
            await post(pool, url)
        with pytest.raises(httpx.RemoteProtocolError, match="malformed"):
            await post(pool, url)
        await pool.aclose()


async def test_gzip_is_decoded_on_the_direct_path_and_by_httpx_on_its_own() -> None:
    text = b'{"answer": "' + b"x" * 5000 + b'"}'

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while request := await script.request(reader):
            assert b"gzip" in request.lower().split(b"accept-encoding:")[1].split(b"\r\n")[0]
            writer.write(answer(gzip.compress(text), b"Content-Encoding: gzip"))
            await writer.drain()

    async with scripted(handler) as (script, url):
        client = UpstreamClient(Http1Transport(httpx.Limits()))
        response = await client.direct.post(url, b"{}", {"authorization": "Bearer k"}, TIMEOUT)
        assert await client.direct.read(response) == text
        assert (await client.post(url, content=b"{}")).content == text
        await client.aclose()


async def test_an_interim_100_continue_is_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)  # its own network read: not to be taken for the answer
        writer.write(answer(b"done"))
        await writer.drain()
        await reader.read()

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        assert await post(pool, url) == (200, b"done")
        await pool.aclose()


async def test_a_silent_server_ends_at_the_read_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        if script.connections == 2:  # the head, then silence
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            await writer.drain()
        await asyncio.sleep(5)

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        quick = httpx.Timeout(2.0, read=0.2)
        with pytest.raises(httpx.ReadTimeout):
            await pool.request("POST", url, [], b"{}", quick)
        response = await pool.request("POST", url, [], b"{}", quick)
        assert await response.next_block() == b"hello"
        with pytest.raises(httpx.ReadTimeout):
            await response.next_block()
        response.release()
        await pool.aclose()


async def test_leaving_mid_body_closes_the_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        if not await reader.read():  # the client went away: the vendor can stop generating
            script.closed_by_client.set()

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        response = await pool.request("POST", url, [], b"{}", TIMEOUT)
        assert await response.next_block() == b"hello"
        response.release()
        await asyncio.wait_for(script.closed_by_client.wait(), 2)
        await pool.aclose()


async def test_a_large_body_is_read_whole_through_flow_control() -> None:
    body = bytes(range(256)) * 8192  # 2 MiB, past the high-water mark many times

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        writer.write(answer(body))
        await writer.drain()
        await reader.read()

    async with scripted(handler) as (script, url):
        pool = Http1Pool()
        response = await pool.request("POST", url, [], b"{}", TIMEOUT)
        await asyncio.sleep(0.3)  # not reading: the socket is paused, memory stays bounded
        assert 0 < response.pending <= HIGH_WATER + 256 * 1024  # one read past the mark
        received = []
        while block := await response.next_block():
            received.append(block)
            await asyncio.sleep(0.001)  # a slow reader: the socket is paused meanwhile
        response.release()
        await pool.aclose()
    assert b"".join(received) == body


async def test_the_connection_limit_queues_then_times_out() -> None:
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await script.request(reader):
            await release.wait()
            writer.write(answer(b"ok"))
            await writer.drain()

    async with scripted(handler) as (script, url):
        pool = Http1Pool(max_connections=1)
        first = asyncio.create_task(post(pool, url))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await pool.request("POST", url, [], b"{}", httpx.Timeout(2.0, pool=0.1))
        second = asyncio.create_task(post(pool, url))  # waits for the first one's place
        await asyncio.sleep(0.05)
        assert not second.done()
        release.set()
        assert await first == (200, b"ok") and await second == (200, b"ok")
        await pool.aclose()
    assert script.connections == 1


async def test_header_values_cannot_smuggle_lines() -> None:
    pool = Http1Pool()
    smuggled = [(b"x", b"a\r\nHost: evil")]
    with pytest.raises(httpx.LocalProtocolError):
        await pool.request("POST", "http://127.0.0.1:9/", smuggled, b"", TIMEOUT)


async def test_connect_errors_and_tls_verification() -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await script.request(reader)
        writer.write(answer(b"secret"))
        await writer.drain()

    async with scripted(handler, tls=server_context) as (script, url):

        def trusting() -> ssl.SSLContext:
            context = ssl.create_default_context()
            ca.configure_trust(context)
            return context

        assert await post(Http1Pool(tls=trusting), url) == (200, b"secret")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await post(Http1Pool(), url)  # the system's CAs do not know ours
    with pytest.raises(httpx.ConnectError):
        await post(Http1Pool(), url)  # the server is gone
