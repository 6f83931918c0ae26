"""Decide whether a URL may be fetched from a server that takes user input (SSRF guard).

This library runs inside services that pass user-supplied image URLs through;
without a guard, ``http://169.254.169.254/...`` or ``http://localhost:6379/``
turns the service into a proxy into its own network. The rules:

* only ``http`` and ``https``;
* the host is resolved and refused if *any* address is loopback, private,
  link-local, CGNAT, unspecified, multicast, reserved or otherwise not global
  (IPv4-mapped, 6to4 and NAT64 IPv6 forms are judged by the IPv4 inside);
* cloud metadata endpoints are refused by name and by literal address even
  when a caller opts out of the address check (they are never media hosts).

Odd literal notations (``http://2130706433/``, ``http://0x7f.1/``) need no special
parsing: they go through ``getaddrinfo`` like names and come out as 127.0.0.1.

>>> blocked_reason("10.1.2.3")
'a private address'
>>> blocked_reason("::ffff:127.0.0.1")
'a loopback address'
>>> blocked_reason("93.184.216.34") is None
True
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from typing import Any

import httpx

from segmind_gemini.errors import MediaError

__all__ = [
    "METADATA_ADDRESSES",
    "METADATA_HOSTS",
    "IPAddress",
    "aresolve_allowed",
    "blocked_reason",
    "check_url",
    "is_metadata_address",
    "normalize_ip",
    "redact_url",
    "resolve_allowed",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Instance-metadata services (AWS, GCP, Azure, OCI; AWS IPv6; Alibaba; Azure wire server).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
#: Metadata host names, refused before any lookup (lower case, no trailing dot).
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})

_USERINFO = re.compile(r"//[^/?#@]*@")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_COMPAT = ipaddress.ip_network("::/96")


def redact_url(url: str | httpx.URL) -> str:
    """``url`` without credentials, query or fragment, for error messages and logs.

    Query strings often carry signed tokens; they never appear in our errors.

    >>> redact_url("https://user:pw@cdn.example/a.png?sig=SECRET#x")
    'https://cdn.example/a.png'
    """
    try:
        u: httpx.URL | None = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        u = None
    if u is not None and u.scheme:
        path = u.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
        return f"{u.scheme}://{u.netloc.decode('ascii', 'replace')}{path}"
    text = str(url).split("?", 1)[0].split("#", 1)[0]
    return _USERINFO.sub("//", text)[:200]


def _as_ip(address: str | IPAddress) -> IPAddress:
    if isinstance(address, str):
        # getaddrinfo may add an IPv6 zone ("fe80::1%eth0"); the zone does not
        # change which network the address belongs to.
        return ipaddress.ip_address(address.split("%", 1)[0])
    return address


def normalize_ip(address: str | IPAddress) -> IPAddress:
    """The address a connection to ``address`` really reaches.

    IPv6 forms that carry an IPv4 address (mapped ``::ffff:a.b.c.d``, the deprecated
    compatible ``::a.b.c.d``, 6to4 ``2002::/16`` and NAT64 ``64:ff9b::/96``) become
    that IPv4 address, so every range check judges the real destination.

    >>> normalize_ip("::ffff:169.254.169.254")
    IPv4Address('169.254.169.254')
    """
    ip = _as_ip(address)
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip
    embedded = ip.ipv4_mapped or ip.sixtofour
    if embedded is None and (ip in _NAT64 or (ip in _COMPAT and int(ip) > 1)):
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip if embedded is None else embedded


def is_metadata_address(address: str | IPAddress) -> bool:
    """Whether ``address``, in any notation, is a cloud metadata endpoint."""
    return normalize_ip(address) in METADATA_ADDRESSES


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why ``address`` must not be fetched from, or ``None`` if it is a public address.

    >>> blocked_reason("169.254.169.254")
    'a cloud metadata address'
    >>> blocked_reason("100.64.0.1")
    'a carrier-grade NAT address'
    """
    ip = normalize_ip(address)
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip in _LOCAL_NAT64:
        return "a local-use NAT64 address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        # Documentation, benchmarking, "this network" (0/8) and similar ranges.
        return "a non-public address"
    return None


def check_url(url: str | httpx.URL) -> httpx.URL:
    """Parse ``url`` and refuse schemes other than http/https and metadata host names.

    >>> check_url("file:///etc/passwd")
    Traceback (most recent call last):
    ...
    segmind_gemini.errors.MediaError: file: URLs are not fetched; only http and https URLs are ...
    """
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise MediaError(f"not a valid URL: {redact_url(str(url))!r} ({exc})") from None
    scheme = parsed.scheme
    if scheme not in ("http", "https"):
        shown = f"{scheme}: URLs are" if scheme else "URLs without a scheme are"
        hint = (
            " (pass data: URLs to inline_part_from_data_url)"
            if scheme == "data"
            else " (read local files yourself and use inline_part_from_bytes)"
            if scheme == "file"
            else ""
        )
        raise MediaError(
            f"{shown} not fetched; only http and https URLs are, got {redact_url(parsed)}{hint}"
        )
    host = parsed.raw_host.decode("ascii").rstrip(".").lower()
    if not host:
        raise MediaError(f"URL has no host: {redact_url(parsed)}")
    literal = _literal_ip(host.strip("[]"))
    if host in METADATA_HOSTS or (literal is not None and is_metadata_address(literal)):
        kind = "host" if host in METADATA_HOSTS else "address"
        raise MediaError(
            f"refusing to fetch {redact_url(parsed)}: {host} is a cloud metadata {kind}"
        )
    return parsed


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # inet_aton reads the legacy forms too (2852039166, 0xa9.254.169.254);
        # it is local parsing, no DNS.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _unique_addresses(infos: list[tuple[Any, ...]]) -> list[IPAddress]:
    seen: dict[IPAddress, None] = {}
    for info in infos:
        seen.setdefault(_as_ip(str(info[4][0])), None)
    return list(seen)


def _judge(url: httpx.URL, addresses: list[IPAddress], allow_private: bool) -> list[IPAddress]:
    if not addresses:
        raise MediaError(f"could not resolve the host of {redact_url(url)}: no addresses")
    for ip in addresses:
        if allow_private:
            # Opting out of the private-address check never opens the metadata service.
            if is_metadata_address(ip):
                raise MediaError(
                    f"refusing to fetch {redact_url(url)}: {url.host} resolves to {ip}, "
                    "a cloud metadata address (refused even with allow_private=True)"
                )
            continue
        reason = blocked_reason(ip)
        if reason is not None:
            raise MediaError(
                f"refusing to fetch {redact_url(url)}: {url.host} resolves to {ip}, {reason} "
                "(pass allow_private=True, or allow_private_urls=True on the LangChain and "
                "LlamaIndex models, to fetch from your own network)"
            )
    return addresses


def _lookup_args(url: httpx.URL) -> tuple[str, int]:
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.raw_host.decode("ascii"), port


def resolve_allowed(url: httpx.URL, *, allow_private: bool = False) -> list[IPAddress]:
    """Resolve ``url``'s host; return its addresses if every one may be fetched from.

    Raises :class:`MediaError` naming the first blocked address and why. Connect to
    one of the returned addresses (not the name again) so a second DNS answer
    cannot swap in a private address (DNS rebinding). With ``allow_private=True``
    only metadata addresses are refused, and a name that does not resolve here
    gives ``[]`` (a proxy may still reach it by name).

    >>> resolve_allowed(httpx.URL("https://example.com/cat.png"))
    [IPv4Address('93.184.216.34'), ...]
    """
    host, port = _lookup_args(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        if allow_private:
            return []
        raise MediaError(f"could not resolve the host of {redact_url(url)}: {exc}") from None
    return _judge(url, _unique_addresses(infos), allow_private)


async def aresolve_allowed(url: httpx.URL, *, allow_private: bool = False) -> list[IPAddress]:
    """Async :func:`resolve_allowed`, resolving through the running loop.

    >>> await aresolve_allowed(httpx.URL("https://example.com/cat.png"))
    [IPv4Address('93.184.216.34'), ...]
    """
    host, port = _lookup_args(url)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        if allow_private:
            return []
        raise MediaError(f"could not resolve the host of {redact_url(url)}: {exc}") from None
    return _judge(url, _unique_addresses(list(infos)), allow_private)
