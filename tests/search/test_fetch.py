"""The page fetcher: SSRF refusals (checked at connect time, every hop), limits, types."""

from __future__ import annotations

import time
from collections.abc import Iterable

import httpcore
import pytest

from modelport.search import AddressPolicy, FetchedPage, FetchFailed, FetchRefused, PageFetcher
from modelport.search.guard import GuardedBackend, Resolver, system_resolver
from modelport.settings import SearchFetchSettings
from tests.search.conftest import FakeWeb

LOOPBACK = ["127.0.0.1/32"]


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """The real network, remembering every address dialled."""

    def __init__(self) -> None:
        self.dialled: list[str] = []
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append(host)
        return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def fetcher(
    allow: list[str],
    recorder: RecordingBackend,
    resolver: Resolver = system_resolver,
    **limits: object,
) -> PageFetcher:
    settings = SearchFetchSettings(allow_networks=allow, timeout=2.0, max_bytes=100_000)
    settings = settings.model_copy(update=limits)
    backend = GuardedBackend(AddressPolicy(allow), resolver=resolver, inner=recorder)
    return PageFetcher(settings, backend=backend)


async def fetch_one(page_fetcher: PageFetcher, url: str) -> FetchedPage | FetchFailed:
    [outcome] = await page_fetcher.fetch_all([url])
    return outcome


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::1",
    ],
)
def test_policy_refuses_non_public_addresses(address: str) -> None:
    assert not AddressPolicy().permits(address)


def test_policy_permits_public_and_allow_listed() -> None:
    assert AddressPolicy().permits("93.184.216.34")
    assert AddressPolicy().permits("2606:2800:220:1:248:1893:25c8:1946")
    assert AddressPolicy(LOOPBACK).permits("127.0.0.1")
    assert not AddressPolicy(LOOPBACK).permits("127.0.0.2")
    assert not AddressPolicy(LOOPBACK).permits("::1")
    assert AddressPolicy(["::1/128"]).permits("::1")  # not read as the IPv4-compatible 0.0.0.1


async def test_allow_listed_page_is_fetched_and_extracted(web: FakeWeb) -> None:
    recorder = RecordingBackend()
    page = await fetch_one(fetcher(LOOPBACK, recorder), web.pages_url + "/gazette/observatory.html")
    assert isinstance(page, FetchedPage), page
    assert page.content_type == "text/html" and not page.truncated
    assert "Vireo telescope" in page.text
    assert recorder.dialled == ["127.0.0.1"]


async def test_loopback_is_refused_without_the_allow_list(web: FakeWeb) -> None:
    recorder = RecordingBackend()
    outcome = await fetch_one(fetcher([], recorder), web.pages_url + "/gazette/observatory.html")
    assert isinstance(outcome, FetchRefused)
    assert "non-public" in str(outcome)
    assert recorder.dialled == [] and not web.state.hits


async def test_metadata_address_is_never_dialled() -> None:
    recorder = RecordingBackend()
    outcome = await fetch_one(
        fetcher(LOOPBACK, recorder), "http://169.254.169.254/latest/meta-data/"
    )
    assert isinstance(outcome, FetchRefused)
    assert recorder.dialled == []


async def test_each_redirect_hop_is_checked_again(web: FakeWeb) -> None:
    recorder = RecordingBackend()
    page_fetcher = fetcher(LOOPBACK, recorder)
    to_metadata = await fetch_one(page_fetcher, web.pages_url + "/go/metadata")
    assert isinstance(to_metadata, FetchRefused) and "169.254.169.254" in str(to_metadata)
    to_ipv6_loopback = await fetch_one(page_fetcher, web.pages_url + "/go/loopback6")
    assert isinstance(to_ipv6_loopback, FetchRefused) and "::1" in str(to_ipv6_loopback)
    to_file = await fetch_one(page_fetcher, web.pages_url + "/go/file")
    assert isinstance(to_file, FetchRefused) and "scheme 'file'" in str(to_file)
    assert set(recorder.dialled) == {"127.0.0.1"}
    assert web.state.hits["/gazette/observatory.html"] == 0


async def test_allowed_redirects_are_followed_up_to_the_limit(web: FakeWeb) -> None:
    page_fetcher = fetcher(LOOPBACK, RecordingBackend(), max_redirects=2)
    page = await fetch_one(page_fetcher, web.pages_url + "/go/observatory")
    assert isinstance(page, FetchedPage)
    assert page.url.endswith("/gazette/observatory.html")
    looped = await fetch_one(page_fetcher, web.pages_url + "/go/loop")
    assert isinstance(looped, FetchFailed) and "more than 2 redirects" in str(looped)
    assert web.state.hits["/go/loop"] == 3


async def test_unparsable_urls_and_redirects_skip_only_their_page(web: FakeWeb) -> None:
    recorder = RecordingBackend()
    pages = web.pages_url
    urls = [
        "http://0177.0.0.1/",
        "http://127.0.0.1:99999/",
        pages + "/go/octal",
        pages + "/go/broken",
        pages + "/go/port",
        pages + "/gazette/observatory.html",
    ]
    outcomes = await fetcher(LOOPBACK, recorder).fetch_all(urls)
    assert [str(o) for o in outcomes[:5]] == [
        "'http://0177.0.0.1/' is not a valid URL",
        "http://127.0.0.1:99999/: port 99999 is out of range",
        "'http://0177.0.0.1/' is not a valid URL",
        "'http:////[x' is not a valid URL",
        "http://127.0.0.1:99999/: port 99999 is out of range",
    ]
    assert all(isinstance(o, FetchRefused) for o in outcomes[:5])
    page = outcomes[5]
    assert isinstance(page, FetchedPage) and "Vireo telescope" in page.text
    assert web.state.hits == {
        "/go/octal": 1,
        "/go/broken": 1,
        "/go/port": 1,
        "/gazette/observatory.html": 1,
    }
    assert recorder.dialled == ["127.0.0.1"] * 4


async def test_every_resolved_address_must_pass() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return {"mixed.example": ["93.184.216.34", "10.0.0.5"], "rebind.example": ["127.0.0.1"]}[
            host
        ]

    recorder = RecordingBackend()
    page_fetcher = fetcher([], recorder, resolver=resolver)
    mixed = await fetch_one(page_fetcher, "http://mixed.example/")
    rebound = await fetch_one(page_fetcher, "https://rebind.example/")
    assert isinstance(mixed, FetchRefused) and "10.0.0.5" in str(mixed)
    assert isinstance(rebound, FetchRefused)
    assert recorder.dialled == []


async def test_credentials_and_other_schemes_are_refused() -> None:
    page_fetcher = fetcher([], RecordingBackend())
    for url in ("ftp://example.com/x", "gopher://example.com/", "http://user:pw@example.com/"):
        assert isinstance(await fetch_one(page_fetcher, url), FetchRefused), url


async def test_huge_page_is_cut_at_max_bytes(web: FakeWeb) -> None:
    started = time.monotonic()
    page = await fetch_one(fetcher(LOOPBACK, RecordingBackend()), web.pages_url + "/huge.html")
    assert isinstance(page, FetchedPage)
    assert page.truncated and len(page.text.encode()) <= 100_000
    assert time.monotonic() - started < 2.0
    # The connection was dropped: the server sent a small part of its 20 MB.
    assert web.state.huge_bytes_sent < 64 * 1024 * 1024  # not 200 MB; socket buffers aside


async def test_non_html_pages_are_refused_and_text_is_read(web: FakeWeb) -> None:
    page_fetcher = fetcher(LOOPBACK, RecordingBackend())
    pdf, png, text = await page_fetcher.fetch_all(
        [web.pages_url + p for p in ("/catalogue.pdf", "/telescope.png", "/notes.txt")]
    )
    assert isinstance(pdf, FetchRefused) and "application/pdf" in str(pdf)
    assert isinstance(png, FetchRefused) and "image/png" in str(png)
    assert isinstance(text, FetchedPage) and "Red torches" in text.text


async def test_slow_page_gives_up_at_the_time_limit(web: FakeWeb) -> None:
    page_fetcher = fetcher(LOOPBACK, RecordingBackend(), timeout=0.5)
    started = time.monotonic()
    slow, fast = await page_fetcher.fetch_all(
        [web.pages_url + "/slow.html", web.pages_url + "/optics/mirror.html"]
    )
    assert time.monotonic() - started < 1.5
    assert isinstance(slow, FetchFailed) and not isinstance(slow, FetchRefused)
    assert isinstance(fast, FetchedPage)
