"""Server-side request forgery guard: which addresses the page fetcher may connect to.

Checks happen where the socket is opened (`GuardedBackend.connect_tcp`), after our own DNS
lookup, and the connection goes to an address we checked: a redirect hop or a name that
resolves differently the second time cannot slip past. Every address a name resolves to
must pass, so a name mixing public and private records is refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
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


class AddressPolicy:
    """Public unicast addresses pass; private, loopback, link-local, reserved, shared (CGNAT),
    multicast and unspecified ones pass only when inside an allow-listed network."""

    def __init__(self, allow_networks: Iterable[str] = ()) -> None:
        self._allowed: list[IPNetwork] = [
            ipaddress.ip_network(net, strict=False) for net in allow_networks
        ]

    def permits(self, address: str) -> bool:
        ip: IPAddress = ipaddress.ip_address(address)
        if any(ip in net for net in self._allowed):
            return True
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
            if embedded is not None and not self.permits(str(embedded)):
                return False
        return ip.is_global and not ip.is_multicast

    def check(self, host: str, addresses: Sequence[str]) -> None:
        if not addresses:
            raise FetchFailed(f"{host} resolves to no address")
        for address in addresses:
            if not self.permits(address):
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
