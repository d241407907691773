"""Reaching an upstream through proxies and private CAs, as operators in mainland China must:
a real HTTP CONNECT and SOCKS5 proxy (pproxy, in its own process) in front of an HTTPS fake
upstream whose certificate comes from a throwaway CA."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from modelport.providers.base import ProviderDeps
from modelport.providers.errors import UpstreamError
from modelport.providers.http_client import UpstreamHTTP
from modelport.providers.openai_compat.adapter import OpenAICompatProvider
from modelport.settings import ChannelConfig, Settings
from tests.fakes.openai_upstream import create_app
from tests.fakes.server import free_port, serve_asgi

from .helpers import chat, collect, streamed_text

# pproxy picks uvloop when it can and then fails to find a loop; run it on asyncio's own.
PROXY = """
import sys
sys.modules["uvloop"] = None
sys.argv = ["pproxy", "-l", "http+socks5://127.0.0.1:{port}", "-v"]
from pproxy.server import main
main()
"""


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """(CA bundle, server certificate chain, server key) for 127.0.0.1."""
    where = tmp_path_factory.mktemp("tls")
    authority = trustme.CA()
    leaf = authority.issue_cert("127.0.0.1")
    bundle, chain, key = where / "ca.pem", where / "server.pem", where / "server.key"
    authority.cert_pem.write_to_path(str(bundle))
    leaf.private_key_pem.write_to_path(str(key))
    chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    yield bundle, chain, key


@pytest.fixture(scope="module")
def https_upstream(ca: tuple[Path, Path, Path]) -> Iterator[str]:
    _, chain, key = ca
    with serve_asgi(create_app(), tls=(str(chain), str(key))) as url:
        yield url


class Proxy:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self._log = log

    def tunnels_to(self, target: str) -> int:
        """How many connections the proxy opened to `target` (host:port)."""
        return self._log.read_text().count(f"-> {target}")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    port = free_port()
    log = tmp_path_factory.mktemp("proxy") / "pproxy.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-u", "-c", PROXY.format(port=port)], stdout=out, stderr=out
        )
    deadline = time.monotonic() + 10
    while "Serving on" not in log.read_text():
        assert time.monotonic() < deadline and process.poll() is None, log.read_text()
        time.sleep(0.05)
    try:
        yield Proxy(f"127.0.0.1:{port}", log)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def provider() -> AsyncIterator[OpenAICompatProvider]:
    """A provider on a client built now, so it reads the environment each test sets."""
    settings = Settings()
    http = UpstreamHTTP(settings.upstream)
    try:
        yield OpenAICompatProvider(ProviderDeps(settings=settings, http=http))
    finally:
        await http.aclose()


def _channel(url: str, **fields: Any) -> ChannelConfig:
    return ChannelConfig(
        provider="openai_compat",
        base_url=url + "/v1",
        api_key="sk-test-1",
        read_timeout=5,
        **fields,
    )


def _target(url: str) -> str:
    return url.split("://", 1)[1]


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
async def test_a_channel_proxy_carries_its_calls(
    provider: OpenAICompatProvider,
    proxy: Proxy,
    https_upstream: str,
    ca: tuple[Path, Path, Path],
    scheme: str,
) -> None:
    before = proxy.tunnels_to(_target(https_upstream))
    channel = _channel(https_upstream, proxy=f"{scheme}://{proxy.url}", ca_file=str(ca[0]))
    answer = await provider.complete(chat("through the tunnel"), channel)
    assert answer.choices[0].message.content == "Echo: through the tunnel"
    chunks = await collect(provider.stream(chat("streamed too", stream=True), channel))
    assert streamed_text(chunks) == "Echo: streamed too"
    assert proxy.tunnels_to(_target(https_upstream)) - before >= 1


async def test_the_environment_proxy_and_ca_are_honoured_unless_no_proxy_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
    proxy: Proxy,
    https_upstream: str,
    ca: tuple[Path, Path, Path],
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://{proxy.url}")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca[0]))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    target = _target(https_upstream)
    settings = Settings()
    for no_proxy, tunnelled in ((None, 1), ("127.0.0.1", 0)):
        if no_proxy is not None:
            monkeypatch.setenv("NO_PROXY", no_proxy)
        http = UpstreamHTTP(settings.upstream)
        try:
            provider = OpenAICompatProvider(ProviderDeps(settings=settings, http=http))
            before = proxy.tunnels_to(target)
            answer = await provider.complete(chat("from the environment"), _channel(https_upstream))
            assert answer.choices[0].message.content == "Echo: from the environment"
            assert proxy.tunnels_to(target) - before == tunnelled
        finally:
            await http.aclose()


async def test_verification_by_default_ca_file_or_off(
    provider: OpenAICompatProvider, https_upstream: str, ca: tuple[Path, Path, Path]
) -> None:
    with pytest.raises(UpstreamError) as untrusted:
        await provider.complete(chat("hi"), _channel(https_upstream))
    # the handshake failed, so nothing was sent: another channel may be tried
    assert untrusted.value.retryable and untrusted.value.code == "upstream_connection_error"
    assert "certificate" in untrusted.value.message.lower()
    trusted = await provider.complete(chat("hi"), _channel(https_upstream, ca_file=str(ca[0])))
    assert trusted.choices[0].message.content == "Echo: hi"
    unverified = await provider.complete(chat("hi"), _channel(https_upstream, verify=False))
    assert unverified.choices[0].message.content == "Echo: hi"


async def test_a_proxy_that_is_down_is_a_connect_failure(
    provider: OpenAICompatProvider, https_upstream: str
) -> None:
    for scheme in ("http", "socks5"):
        channel = _channel(https_upstream, proxy=f"{scheme}://127.0.0.1:{free_port()}")
        with pytest.raises(UpstreamError) as down:
            await provider.complete(chat("hi"), channel)
        assert down.value.retryable and down.value.status == 502, scheme
