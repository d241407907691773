"""Server-side request forgery guard: which addresses the page fetcher may connect to.

Checks happen where the socket is opened (`GuardedBackend.connect_tcp`), after our own DNS
lookup, and the connection goes to an address we checked: a redirect hop or a name that
resolves differently the second time cannot slip past. Every address a name resolves to
must pass, so a name mixing public and private records is refused. An IPv6 address that
carries an IPv4 one (mapped, compatible, NAT64, 6to4, Teredo) is refused when that IPv4 address
would be, and a host written as an IP address must be written the ordinary way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses it resolves to, as strings
Resolver = Callable[[str, int], Awaitable[list[str]]]


class FetchFailed(Exception):
    """A page could not be fetched (network, status, timeout, limits)."""


class FetchRefused(FetchFailed):
    """A page was not fetched on purpose: the address, scheme or content type is not allowed."""


# IPv6 ranges whose last 32 bits are an IPv4 address (RFC 4291 "IPv4-compatible" ::/96,
# RFC 2765 "IPv4-translated", RFC 6052 NAT64 well-known prefix and RFC 8215 local-use prefix,
# the latter read with the /96 layout). Mapped, 6to4 and Teredo have `ipaddress` attributes.
_LOW_32_BITS_IPV4 = tuple(
    ipaddress.IPv6Network(net)
    for net in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48")
)
# Local-use NAT64 reaches whatever the local translator reaches: not globally reachable
# (RFC 8215), though some Python builds count it as global.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
# The WHATWG URL standard reads a host whose last label is a number (`2130706433`, `0x7f.1`,
# `0177.0.0.1`) as an IPv4 address, and so does getaddrinfo; only dotted decimal is accepted.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, or None when it carries none."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client; the server's address is not where packets end up
    if int(ip) > 1 and any(ip in net for net in _LOW_32_BITS_IPV4):  # not :: or ::1
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def check_host_notation(host: str) -> None:
    """Refuse a host that names an IPv4 address in any notation but dotted decimal."""
    if ":" in host:  # IPv6
        return
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # "example.com." is "example.com"
    if not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return
    try:
        canonical = str(ipaddress.IPv4Address(host)) == host
    except ValueError:
        canonical = False
    if not canonical:
        raise FetchRefused(f"{host!r} is not an IPv4 address in dotted-decimal notation")


class AddressPolicy:
    """Public unicast addresses pass; private, loopback, link-local, reserved, shared (CGNAT),
    multicast and unspecified ones pass only when inside an allow-listed network.

    An IPv6 address carrying an IPv4 address passes only if that IPv4 address passes too,
    whatever the allow-list says of the IPv6 address."""

    def __init__(self, allow_networks: Iterable[str] = ()) -> None:
        self._allowed: list[IPNetwork] = [
            ipaddress.ip_network(net, strict=False) for net in allow_networks
        ]

    def permits(self, address: str) -> bool:
        """Whether `address` may be dialled; anything that is not an IP address may not."""
        try:
            ip: IPAddress = ipaddress.ip_address(address)
        except ValueError:
            return False
        return self._permits(ip)

    def _permits(self, ip: IPAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = embedded_ipv4(ip)
            if embedded is not None and not self._permits(embedded):
                return False
        if any(ip in net for net in self._allowed):
            return True
        if ip in _NAT64_LOCAL_USE:
            return False
        return ip.is_global and not ip.is_multicast

    def check(self, host: str, addresses: Sequence[str]) -> None:
        if not addresses:
            raise FetchFailed(f"{host} resolves to no address")
        for address in addresses:
            try:
                ip: IPAddress = ipaddress.ip_address(address)
            except ValueError:
                raise FetchRefused(f"{host} resolves to {address!r}, not an IP address") from None
            if not self._permits(ip):
                raise FetchRefused(f"{host} resolves to {address}, a non-public address")


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchFailed(f"cannot resolve {host}: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, refusing connections that the policy does not permit."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolve = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        host = host.strip("[]")
        check_host_notation(host)
        addresses = await self._resolve(host, port)
        self._policy.check(host, addresses)
        last: Exception | None = None
        for address in addresses:
            try:
                # TLS still verifies (and sends SNI for) the URL's host name: httpcore passes
                # the origin's host to start_tls, not the address we dial.
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise FetchFailed(f"cannot connect to {host}:{port}") from last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchRefused("unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
