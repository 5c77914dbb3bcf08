"""The public-address policy: which URLs refvid may reach, and the one address to reach each at.

:func:`check_url` validates a URL, resolves its host once and returns a :class:`ResolvedTarget`
naming the single checked address to connect to. Reference downloads
(:mod:`refvid.references.fetch`) and webhook deliveries (:mod:`refvid.jobs.webhooks`) both go
through it, so the two can never disagree about what "public" means.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from refvid.errors import RefvidError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# inet_aton also accepts 0x7f000001, 2130706433, 0177.0.0.1, 127.1: refuse to guess.
_NUMERIC_HOST: Final = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.I)
_HINT: Final = (
    "refvid only fetches public addresses (an operator can allow private networks "
    "with REFVID_ALLOW_PRIVATE_NETWORKS)"
)
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_METADATA: Final = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
# Ranges some Python versions still call is_global; named so the message can say why.
_EXTRA_V4: Final = (
    (ipaddress.IPv4Network("0.0.0.0/8"), "a 'this network' address"),
    (ipaddress.IPv4Network("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
    (ipaddress.IPv4Network("192.0.0.0/24"), "an IETF protocol-assignment address"),
    (ipaddress.IPv4Network("198.18.0.0/15"), "a benchmarking address"),
)


class UrlRejected(RefvidError):
    """A URL may not or could not be fetched; the message says why and what to change."""


@dataclass(frozen=True)
class ResolvedTarget:
    """A checked URL and the single address to connect to for it."""

    url: str  # the URL as given (fragment removed)
    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal, as in the URL
    port: int
    address: IPAddress

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address: connect to this."""
        parts = urlsplit(self.url)
        ip = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return urlunsplit((self.scheme, f"{ip}:{self.port}", parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        """Value for the Host header (the original name, port only when not the default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if _DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"

    @property
    def extensions(self) -> dict[str, str]:
        """httpx request extensions: TLS SNI and certificate check use the original name."""
        return {"sni_hostname": self.host} if self.scheme == "https" else {}

    @property
    def label(self) -> str:
        """scheme://host[:port]/path without query string: safe to log."""
        return url_label(self.url)


def url_label(url: str) -> str:
    """``url`` without credentials, query string or fragment, at most 200 characters."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "(invalid URL)"
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))[:200]


def parse_networks(values: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    """Parse CIDR strings ("127.0.0.0/8", "10.1.2.3") into networks; ValueError names a bad one."""
    networks: list[IPNetwork] = []
    for value in values:
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(value)
            continue
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"{text!r} is not a network; write allowed private networks in CIDR form, "
                "e.g. 10.0.0.0/8 or fd00::/8"
            ) from exc
    return tuple(networks)


def forbidden_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public address (e.g. "a loopback address"), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            kind, v4 = embedded
            inner = forbidden_reason(v4)
            if inner is not None or kind == "an IPv4-mapped":
                # Mapped addresses are refused even for public v4: connect to the v4 itself.
                return f"{kind} IPv6 address embedding {v4}" + (f" ({inner})" if inner else "")
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address):
        for network, name in _EXTRA_V4:
            if address in network:
                return name
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if not address.is_global:
        return "a non-public address"
    return None


def _embedded_v4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "a 6to4", address.sixtofour
    if address in _NAT64:
        return "a NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return "an IPv4-compatible", ipaddress.IPv4Address(int(address))
    if address.teredo is not None:
        return "a Teredo", address.teredo[1]
    return None


def _allowed(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    if any(address in net for net in networks):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return any(address.ipv4_mapped in net for net in networks)
    return False


def check_address(address: IPAddress, host: str, networks: tuple[IPNetwork, ...]) -> None:
    """Raise :class:`UrlRejected` unless ``address`` is public or in an allowed network."""
    if _allowed(address, networks):
        return
    reason = forbidden_reason(address)
    if reason is not None:
        shown = "" if host == str(address) else f"{host} "
        raise UrlRejected(f"{shown}resolves to {address}, {reason}; {_HINT}")


def check_url(
    url: str, allowed_networks: Iterable[str | IPNetwork] = ()
) -> ResolvedTarget:
    """Validate ``url`` and resolve its host once; raise :class:`UrlRejected` if unsafe.

    Only http/https, no credentials, and every address the host resolves to must be public
    (``is_global``, no embedded private IPv4) or inside ``allowed_networks``. Connect only to
    ``target.pinned_url`` with ``Host: target.host_header`` and ``extensions=target.extensions``.
    Blocking (DNS): call it through a thread from async code.
    """
    networks = parse_networks(allowed_networks)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlRejected(f"is not a valid URL ({exc}); send a full http:// or https:// URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = f"'{scheme}:' URLs" if scheme else "URLs without a scheme"
        raise UrlRejected(f"{shown} cannot be fetched; only http:// and https:// URLs are accepted")
    if "@" in parts.netloc:
        raise UrlRejected(
            "URL contains credentials (user:password@); refvid does not send credentials — "
            "use a public or pre-signed URL"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRejected("URL has no host name; send a full URL such as https://example.com/cat.jpg")
    port = _DEFAULT_PORTS[scheme] if port is None else port
    if "%" in host:
        raise UrlRejected("URL uses an IPv6 zone index (%...); refvid only fetches public addresses")
    clean = urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    address = _literal(host)
    if address is not None:
        check_address(address, str(address) if ":" in host else host, networks)
        return ResolvedTarget(clean, scheme, str(address), port, address)
    ascii_host = _idna(host)
    addresses = _resolve(ascii_host, port)
    for candidate in addresses:  # all must pass: a mixed answer is a rebinding attempt
        check_address(candidate, ascii_host, networks)
    return ResolvedTarget(clean, scheme, ascii_host, port, addresses[0])


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError as exc:
            raise UrlRejected(f"host {host!r} is not a valid IPv4 address") from exc
    return None


def _idna(host: str) -> str:
    import httpx  # imported when first used: a render from local files never checks a URL (50 ms)

    try:
        raw = httpx.URL(f"http://{host}/").raw_host
    except httpx.InvalidURL as exc:
        raise UrlRejected(f"host {host!r} is not a valid host name ({exc})") from exc
    return raw.decode("ascii")


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UrlRejected(f"host {host} could not be resolved ({exc}); check the URL") from exc
    seen: list[IPAddress] = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in seen:
            seen.append(address)
    if not seen:
        raise UrlRejected(f"host {host} has no IPv4 or IPv6 address; check the URL")
    return seen
