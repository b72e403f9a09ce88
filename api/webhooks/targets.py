"""Where webhooks may send: http and https URLs of hosts whose every address is public.

A webhook URL is chosen by whoever holds an admin key, and the server then makes requests to
it from inside its network: without a check, a URL could reach the database, a cloud
metadata service (169.254.169.254, which hands out credentials) or anything else on loopback
or a private network (server-side request forgery). So a target is refused when any address
its host resolves to is loopback, private, link-local, multicast, reserved, unspecified,
shared (carrier-grade NAT) or a metadata address, unless `webhook_allowed_hosts` names the
host or a network holding the address.

The check runs twice: when the webhook is created (a clear 422), and on every connection a
worker opens, on the very addresses it connects to (DNS may answer differently by then, or on
purpose: rebinding), so what was checked is what is reached. Redirects are never followed.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task credentials
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach it (NAT64).
_EMBEDDING_IPV4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class TargetRefused(Exception):
    """The URL is not one webhooks may send to; the message says why."""


class HostUnresolved(TargetRefused):
    """The URL's host does not resolve (now): nothing can be checked, nor reached."""


@dataclass(frozen=True, slots=True)
class Target:
    """A webhook URL taken apart for sending."""

    scheme: str
    host: str  # ASCII (IDNA), lower case, without the brackets of an IPv6 literal
    port: int
    path: str  # path and query
    netloc: str  # the Host header


def parse_target(url: str) -> Target:
    """`url` as a Target, or TargetRefused saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"the URL is malformed ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused("only http and https URLs can receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(
            "a URL with credentials (user:password@) is not accepted; receivers authenticate "
            "deliveries by their signature"
        )
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    try:
        host = parts.hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise TargetRefused(f"{parts.hostname!r} is not a valid host name") from None
    port = port or (443 if scheme == "https" else 80)
    netloc = f"[{host}]" if ":" in host else host
    default_port = port == (443 if scheme == "https" else 80)
    return Target(
        scheme=scheme,
        host=host,
        port=port,
        path=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        netloc=netloc if default_port else f"{netloc}:{port}",
    )


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, or NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if any(address in network for network in _EMBEDDING_IPV4):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def why_not_public(address: IPAddress) -> str | None:
    """What kind of non-public address this is, or None for a public one."""
    address = _embedded_ipv4(address)
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


class TargetPolicy:
    """The SSRF rule, with its allowlist (`webhook_allowed_hosts`: host names and networks)."""

    def __init__(self, allowed: Sequence[str], *, resolve_timeout: float) -> None:
        self._hosts: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allowed:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.lower().rstrip("."))
        self._resolve_timeout = resolve_timeout

    def _allowed(self, address: IPAddress) -> bool:
        candidates = {address, _embedded_ipv4(address)}
        return any(a in network for a in candidates for network in self._networks)

    async def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for `host`: all of them allowed, or TargetRefused."""
        host = host.strip("[]").lower()
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            resolved = [literal]
        else:
            resolved = await self._resolve(host, port)
        if host.rstrip(".") in self._hosts:
            return resolved
        for address in resolved:
            reason = why_not_public(address)
            if reason is not None and not self._allowed(address):
                what = (
                    f"{address} is {reason}"
                    if literal is not None
                    else f"{host} resolves to {address}, {reason}"
                )
                raise TargetRefused(
                    f"{what}: webhooks may not target it unless "
                    "NEWSGRAPH_WEBHOOK_ALLOWED_HOSTS allows it"
                )
        return resolved

    async def check(self, url: str) -> Target:
        """The URL taken apart, once its host resolves to addresses webhooks may reach."""
        target = parse_target(url)
        await self.addresses(target.host, target.port)
        return target

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._resolve_timeout):
                answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise HostUnresolved(f"{host} did not resolve within the timeout") from None
        except OSError as error:
            raise HostUnresolved(f"{host} does not resolve ({error.strerror or error})") from None
        addresses: list[IPAddress] = []
        for *_, sockaddr in answers:
            # An IPv6 scope ("fe80::1%eth0") is no part of the address.
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise HostUnresolved(f"{host} does not resolve")
        return addresses
