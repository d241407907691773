"""The address guard alone: IPv6 forms carrying an IPv4 address, IP literals in odd notations."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import httpcore
import pytest

from modelport.search import AddressPolicy, FetchRefused
from modelport.search.guard import GuardedBackend, embedded_ipv4

LOOPBACK = ["127.0.0.1/32"]

# (IPv6 address carrying a refused IPv4 address, the IPv6 range of that form, the IPv4 address)
CARRIERS = [
    pytest.param("::ffff:127.0.0.1", "::ffff:0:0/96", "127.0.0.1", id="mapped"),
    pytest.param("::127.0.0.1", "::/96", "127.0.0.1", id="compatible"),
    pytest.param("::ffff:0:a9fe:a9fe", "::ffff:0:0:0/96", "169.254.169.254", id="translated"),
    pytest.param("64:ff9b::7f00:1", "64:ff9b::/96", "127.0.0.1", id="nat64"),
    pytest.param("64:ff9b:1::c0a8:101", "64:ff9b:1::/48", "192.168.1.1", id="nat64-local-use"),
    pytest.param("2002:a00:1::1", "2002::/16", "10.0.0.1", id="6to4"),
    # Teredo: server 65.54.227.120, client 127.0.0.1 stored inverted in the last 32 bits
    pytest.param("2001:0:4136:e378:8000:63bf:80ff:fffe", "2001::/32", "127.0.0.1", id="teredo"),
]


@pytest.mark.parametrize(("address", "form", "ipv4"), CARRIERS)
def test_ipv6_forms_of_a_refused_ipv4_address_are_refused(
    address: str, form: str, ipv4: str
) -> None:
    assert embedded_ipv4(ipaddress.IPv6Address(address)) == ipaddress.IPv4Address(ipv4)
    assert not AddressPolicy().permits(address)
    # Allow-listing the IPv6 form is not enough: the IPv4 address it carries must pass too.
    assert not AddressPolicy([form]).permits(address)
    assert AddressPolicy([form, ipv4]).permits(address)


def test_local_use_nat64_is_refused_unless_allow_listed() -> None:
    assert not AddressPolicy().permits("64:ff9b:1::808:808")
    assert AddressPolicy(["64:ff9b:1::/48"]).permits("64:ff9b:1::808:808")
    # The well-known prefix translates to the public internet: a public IPv4 address passes.
    assert AddressPolicy().permits("64:ff9b::808:808")
    assert embedded_ipv4(ipaddress.IPv6Address("2606:2800:220:1:248:1893:25c8:1946")) is None


def test_what_is_not_an_ip_address_is_refused_not_raised() -> None:
    policy = AddressPolicy(LOOPBACK)
    odd = ("localhost", "2130706433", "0x7f.1", "0177.0.0.1", "", "::1::")
    assert {policy.permits(address) for address in odd} == {False}
    with pytest.raises(FetchRefused) as refused:
        policy.check("odd.example", ["127.0.0.1", "0177.0.0.1"])
    assert str(refused.value) == "odd.example resolves to '0177.0.0.1', not an IP address"


class DialRecorder(httpcore.AsyncNetworkBackend):
    """Remembers the addresses dialled; connects to nothing."""

    def __init__(self) -> None:
        self.dialled: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append(host)
        return httpcore.AsyncNetworkStream()


@pytest.mark.parametrize(
    "host",
    [
        "0177.0.0.1",  # octal
        "2130706433",  # one decimal number
        "0x7f.1",  # hexadecimal, two parts
        "0x7f000001",
        "017700000001",
        "127.1",  # three parts missing
        "127.0.0.01",  # a leading zero
        "127.0.0.1.",  # a trailing dot
        "0",
    ],
)
async def test_ip_literals_in_other_notations_are_refused_before_resolving(host: str) -> None:
    """getaddrinfo reads all of these as 127.0.0.1, so they would dial an allow-listed one."""
    resolved: list[str] = []

    async def resolver(name: str, port: int) -> list[str]:
        resolved.append(name)
        return ["127.0.0.1"]

    inner = DialRecorder()
    backend = GuardedBackend(AddressPolicy(LOOPBACK), resolver=resolver, inner=inner)
    with pytest.raises(FetchRefused) as refused:
        await backend.connect_tcp(host, 80)
    assert str(refused.value) == f"{host!r} is not an IPv4 address in dotted-decimal notation"
    assert resolved == [] and inner.dialled == []
    # Dotted decimal, and names whose last label is not a number, are resolved as before.
    for name in ("127.0.0.1", "[::ffff:127.0.0.1]", "127.0.0.1.nip.io", "0x7f.example"):
        await backend.connect_tcp(name, 80)
    assert resolved == ["127.0.0.1", "::ffff:127.0.0.1", "127.0.0.1.nip.io", "0x7f.example"]
    assert inner.dialled == ["127.0.0.1"] * 4
