"""Turn images, documents, audio and video into Gemini ``inlineData`` parts.

Every input ends up as ``{"inlineData": {"mimeType": "image/png", "data": "<base64>"}}``,
the only media form Segmind forwards. The LangChain and LlamaIndex adapters share
these functions:

* :func:`inline_part_from_bytes`, :func:`inline_part_from_base64` and
  :func:`inline_part_from_data_url` build parts without any I/O;
* :func:`load_url` / :func:`aload_url` fetch a URL safely (http/https only, SSRF
  guard on every redirect hop, size cap while streaming), and
  :func:`part_from_url` / :func:`apart_from_url` turn the result into a part.

Media types follow one rule (see :mod:`segmind_gemini.media.mime`): a declared type
wins unless it is missing or ``application/octet-stream``-like; then the bytes
decide. Every refusal is a :class:`~segmind_gemini.errors.MediaError` (a
``ValueError``) that says what was wrong and what is accepted.

>>> inline_part_from_bytes(png_bytes)
{'inlineData': {'mimeType': 'image/png', 'data': 'iVBORw0KGgo...'}}
>>> part_from_url("https://upload.wikimedia.org/.../cat.jpg")["inlineData"]["mimeType"]
'image/jpeg'
"""

from __future__ import annotations

import asyncio
import binascii
import re
import time
import urllib.parse
from typing import Any

import httpx

from segmind_gemini.errors import MediaError
from segmind_gemini.media.mime import (
    is_generic_mime_type,
    normalize_mime_type,
    resolve_mime_type,
    sniff_mime_type,
)
from segmind_gemini.media.urlguard import (
    IPAddress,
    aresolve_allowed,
    check_url,
    redact_url,
    resolve_allowed,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_REDIRECTS",
    "aload_url",
    "apart_from_url",
    "inline_part_from_base64",
    "inline_part_from_bytes",
    "inline_part_from_data_url",
    "load_url",
    "part_from_url",
]

#: Default cap on a fetched body: Gemini refuses requests over 20 MB anyway.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Redirects followed per fetch; every hop passes the same address check.
MAX_REDIRECTS = 5

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = "image/*, application/pdf, audio/*, video/*, text/plain;q=0.5, */*;q=0.1"
_USER_AGENT = "segmind-gemini (media loader)"

# Standard and URL-safe alphabets (Gemini accepts both); padding only at the end.
_BASE64 = re.compile(r"[A-Za-z0-9+/\-_]*={0,2}")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/\-_=]|=(?=[^=])")
_WHITESPACE = dict.fromkeys(map(ord, " \t\r\n\v\f"))
_URLSAFE = str.maketrans("-_", "+/")
# 4096 base64 characters decode to 3 KB: enough for every signature we sniff.
_SNIFF_CHARS = 4096


def _part(mime_type: str, b64: str) -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime_type, "data": b64}}


def _encode(data: bytes | bytearray | memoryview) -> str:
    # b2a_base64 reads the buffer in place: the only allocations are its bytes
    # result and the str decoded from it (freed at once), never a copy of `data`.
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def inline_part_from_bytes(
    data: bytes | bytearray | memoryview, mime_type: str | None = None
) -> dict[str, Any]:
    """Build an ``inlineData`` part from raw bytes.

    Without ``mime_type`` (or with ``application/octet-stream``) the type is
    recognised from the bytes; an unrecognised format raises :class:`MediaError`.

    >>> inline_part_from_bytes(open("cat.png", "rb").read())
    {'inlineData': {'mimeType': 'image/png', 'data': 'iVBORw0KGgo...'}}
    >>> inline_part_from_bytes(b"plain words", "text/plain; charset=utf-8")
    {'inlineData': {'mimeType': 'text/plain', 'data': 'cGxhaW4gd29yZHM='}}
    """
    if len(data) == 0:
        raise MediaError("media data is empty; pass the file's bytes")
    mime = resolve_mime_type(data, mime_type)
    return _part(mime, _encode(data))


def _clean_base64(b64: str | bytes, what: str) -> str:
    """Validated, standard-alphabet, padded base64; copies only when it must change."""
    if isinstance(b64, (bytes, bytearray)):
        try:
            b64 = bytes(b64).decode("ascii")
        except UnicodeDecodeError:
            raise MediaError(f"{what} is not base64 text (it has non-ASCII bytes)") from None
    if b64[:5].lower() == "data:":
        raise MediaError(f"{what} is a data URL, not bare base64; use inline_part_from_data_url")
    if not _BASE64.fullmatch(b64):
        # Wrapped base64 (MIME, PEM, some SDKs) carries line breaks: drop them once.
        b64 = b64.translate(_WHITESPACE)
        if not _BASE64.fullmatch(b64):
            bad = _NOT_BASE64.search(b64)
            where = f": {b64[bad.start()]!r} at position {bad.start()}" if bad else ""
            raise MediaError(
                f"{what} is not valid base64{where}; expected A-Z, a-z, 0-9, '+', '/' "
                "(or URL-safe '-', '_') with '=' padding only at the end"
            )
    if "-" in b64 or "_" in b64:
        b64 = b64.translate(_URLSAFE)
    pad = 2 if b64.endswith("==") else 1 if b64.endswith("=") else 0
    body = len(b64) - pad
    if body == 0:
        raise MediaError(f"{what} is empty; pass the base64 of the file's bytes")
    if (pad and len(b64) % 4) or body % 4 == 1:
        raise MediaError(
            f"{what} is not valid base64: {len(b64)} characters with {pad} '=' cannot encode "
            "whole bytes (truncated or corrupted?)"
        )
    if not pad and body % 4:
        b64 += "=" * (4 - body % 4)  # unpadded input, e.g. from URL-safe encoders
    return b64


def _base64_head(b64: str) -> bytes:
    return binascii.a2b_base64(b64[:_SNIFF_CHARS])


def inline_part_from_base64(b64: str, mime_type: str | None = None) -> dict[str, Any]:
    """Build an ``inlineData`` part from base64 text, checked but not decoded.

    Line breaks are dropped, URL-safe or unpadded input is normalised, and
    anything else that is not base64 raises :class:`MediaError`. Only the first
    3 KB are decoded, and only when the type must be sniffed.

    >>> inline_part_from_base64("iVBORw0KGgoAAAANSUhEUgAA...")["inlineData"]["mimeType"]
    'image/png'
    >>> inline_part_from_base64("aGk=", "text/plain")
    {'inlineData': {'mimeType': 'text/plain', 'data': 'aGk='}}
    """
    what = "the base64 data"
    b64 = _clean_base64(b64, what)
    head = _base64_head(b64) if is_generic_mime_type(mime_type) else b""
    return _part(resolve_mime_type(head, mime_type, what=what), b64)


def inline_part_from_data_url(url: str) -> dict[str, Any]:
    """Build an ``inlineData`` part from a ``data:`` URL (RFC 2397).

    Base64 payloads are kept as they are (checked, not decoded); percent-encoded
    payloads (``data:text/plain,hello%20world``) are decoded and encoded. With no
    media type the bytes are sniffed, falling back to the RFC's ``text/plain``.

    >>> inline_part_from_data_url("data:image/png;base64,iVBORw0KGgo...")["inlineData"]["mimeType"]
    'image/png'
    >>> inline_part_from_data_url("data:,hello")
    {'inlineData': {'mimeType': 'text/plain', 'data': 'aGVsbG8='}}
    """
    if url[:5].lower() != "data:":
        raise MediaError(
            f"not a data URL: {redact_url(url)[:60]!r}; expected 'data:<type>;base64,<data>'"
        )
    comma = url.find(",")
    if comma < 0:
        raise MediaError(
            "the data URL has no ',' before its data; expected 'data:<type>;base64,<data>'"
        )
    params = [p.strip() for p in url[5:comma].split(";")]
    is_base64 = len(params) > 1 and params[-1].lower() == "base64"
    declared = params[0] or None
    what = "the data URL"
    payload = url[comma + 1 :]
    if not is_base64:
        data = urllib.parse.unquote_to_bytes(payload)
        if not data:
            raise MediaError(f"{what} has no data after ','")
        if declared is None:
            declared = sniff_mime_type(data) or "text/plain"
        return inline_part_from_bytes(data, declared)
    if "%" in payload:
        payload = urllib.parse.unquote(payload)  # some encoders escape '+', '/', '='
    b64 = _clean_base64(payload, what)
    if is_generic_mime_type(declared):
        declared = sniff_mime_type(_base64_head(b64)) or declared or "text/plain"
    return _part(resolve_mime_type(b"", declared, what=what), b64)


# --- fetching URLs ------------------------------------------------------------------------


def _check_args(timeout: float, max_bytes: int) -> None:
    if not timeout > 0:
        raise MediaError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if max_bytes <= 0:
        raise MediaError(f"max_bytes must be positive, got {max_bytes!r}")


def _new_client_args() -> dict[str, Any]:
    # trust_env=False: a proxy from *_PROXY would resolve names itself and defeat
    # the address pinning; callers who need one pass their own client.
    return {"follow_redirects": False, "trust_env": False, "headers": {"User-Agent": _USER_AGENT}}


def _remaining(deadline: float, url: httpx.URL, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise MediaError(f"timed out after {timeout:g} s fetching {redact_url(url)}")
    return left


def _build(
    http: httpx.Client | httpx.AsyncClient, url: httpx.URL, ip: IPAddress | None, timeout: float
) -> httpx.Request:
    """A GET for ``url``; with ``ip``, pinned to that address.

    Pinning rewrites the URL's host to the checked address and keeps the real
    name in ``Host`` and in TLS (SNI and certificate check, via httpx's
    ``sni_hostname`` extension), so nothing resolves the name a second time.
    """
    # identity: media is compressed already, and a gzip body could inflate far
    # past its Content-Length within a single chunk.
    headers = {"Accept": _ACCEPT, "Accept-Encoding": "identity"}
    extensions: dict[str, Any] = {}
    target = url
    if ip is not None:
        target = url.copy_with(host=str(ip))
        headers["Host"] = url.netloc.decode("ascii")
        host = url.raw_host.decode("ascii")
        if url.scheme == "https" and str(ip) != host:
            extensions["sni_hostname"] = host
    return http.build_request(
        "GET", target, headers=headers, timeout=timeout, extensions=extensions
    )


def _redirect(response: httpx.Response, url: httpx.URL) -> httpx.URL | None:
    location = response.headers.get("location")
    if response.status_code not in _REDIRECTS or not location:
        return None
    try:
        return check_url(url.join(location))
    except httpx.InvalidURL:
        raise MediaError(f"{redact_url(url)} redirected to an invalid URL") from None


def _accept(
    response: httpx.Response, url: httpx.URL, mime_type: str | None, max_bytes: int
) -> str | None:
    """Refuse a response before reading its body; return the declared type."""
    if not response.is_success:
        raise MediaError(
            f"GET {redact_url(url)} answered HTTP {response.status_code} {response.reason_phrase}"
        )
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise MediaError(
            f"{redact_url(url)} is {_size(int(length))} (Content-Length), larger than "
            f"max_bytes={max_bytes} ({_size(max_bytes)})"
        )
    declared = mime_type if mime_type is not None else response.headers.get("content-type")
    if not is_generic_mime_type(declared):
        try:
            normalize_mime_type(str(declared))
        except MediaError as exc:
            raise MediaError(f"{redact_url(url)}: {exc.message}") from None
    return declared


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f} MB"


class _Body:
    """Collects a streamed body, refusing it as soon as it passes ``max_bytes``."""

    def __init__(self, url: httpx.URL, max_bytes: int) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.size = 0
        self.chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise MediaError(
                f"{redact_url(self.url)} is larger than max_bytes={self.max_bytes} "
                f"({_size(self.max_bytes)}): stopped after {_size(self.size)}"
            )
        self.chunks.append(chunk)

    def finish(self, declared: str | None) -> tuple[bytes, str]:
        data = b"".join(self.chunks)
        self.chunks.clear()
        if not data:
            raise MediaError(f"{redact_url(self.url)} returned an empty body")
        return data, resolve_mime_type(data, declared, what=redact_url(self.url))


def _too_many(url: httpx.URL) -> MediaError:
    return MediaError(f"{redact_url(url)}: more than {MAX_REDIRECTS} redirects")


def _network_error(exc: httpx.HTTPError, url: httpx.URL, timeout: float) -> MediaError:
    if isinstance(exc, httpx.TimeoutException):
        return MediaError(f"timed out after {timeout:g} s fetching {redact_url(url)}")
    return MediaError(f"could not fetch {redact_url(url)}: {type(exc).__name__}: {exc}")


def _pinned(
    addresses: list[IPAddress], allow_private: bool, client: object | None
) -> list[IPAddress] | None:
    """The checked addresses to connect to, or ``None`` to connect by name.

    With ``allow_private=True`` a caller's own client may go through a proxy, which
    must see the name (an https tunnel to a bare address fails its certificate
    check); everywhere else the connection goes to an address that was checked,
    so a second DNS answer cannot swap in another one.
    """
    if not addresses or (allow_private and client is not None):
        return None
    return addresses


def _send(
    http: httpx.Client, url: httpx.URL, addresses: list[IPAddress] | None, timeout: float
) -> httpx.Response:
    candidates: list[IPAddress | None] = [*addresses] if addresses else [None]
    for ip in candidates[:-1]:
        try:
            request = _build(http, url, ip, timeout)
            return http.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            continue  # e.g. no IPv6 route: try the host's next address
    request = _build(http, url, candidates[-1], timeout)
    return http.send(request, stream=True, follow_redirects=False)


async def _asend(
    http: httpx.AsyncClient, url: httpx.URL, addresses: list[IPAddress] | None, timeout: float
) -> httpx.Response:
    candidates: list[IPAddress | None] = [*addresses] if addresses else [None]
    for ip in candidates[:-1]:
        try:
            request = _build(http, url, ip, timeout)
            return await http.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            continue
    request = _build(http, url, candidates[-1], timeout)
    return await http.send(request, stream=True, follow_redirects=False)


def _fetch(
    url: str,
    mime_type: str | None,
    allow_private: bool,
    timeout: float,
    max_bytes: int,
    client: httpx.Client | None,
) -> tuple[bytes, str]:
    _check_args(timeout, max_bytes)
    current = check_url(url)
    deadline = time.monotonic() + timeout
    http = client if client is not None else httpx.Client(**_new_client_args())
    try:
        for _ in range(MAX_REDIRECTS + 1):
            resolved = resolve_allowed(current, allow_private=allow_private)
            addresses = _pinned(resolved, allow_private, client)
            response = _send(http, current, addresses, _remaining(deadline, current, timeout))
            try:
                target = _redirect(response, current)
                if target is None:
                    declared = _accept(response, current, mime_type, max_bytes)
                    body = _Body(current, max_bytes)
                    for chunk in response.iter_bytes():
                        body.add(chunk)
                        _remaining(deadline, current, timeout)  # a slow drip is a timeout too
                    return body.finish(declared)
            finally:
                response.close()
            current = target
        raise _too_many(current)
    except httpx.HTTPError as exc:
        raise _network_error(exc, current, timeout) from exc
    finally:
        if client is None:
            http.close()


async def _afetch(
    url: str,
    mime_type: str | None,
    allow_private: bool,
    timeout: float,
    max_bytes: int,
    client: httpx.AsyncClient | None,
) -> tuple[bytes, str]:
    current = check_url(url)
    deadline = time.monotonic() + timeout
    http = client if client is not None else httpx.AsyncClient(**_new_client_args())
    try:
        for _ in range(MAX_REDIRECTS + 1):
            resolved = await aresolve_allowed(current, allow_private=allow_private)
            addresses = _pinned(resolved, allow_private, client)
            left = _remaining(deadline, current, timeout)
            response = await _asend(http, current, addresses, left)
            try:
                target = _redirect(response, current)
                if target is None:
                    declared = _accept(response, current, mime_type, max_bytes)
                    body = _Body(current, max_bytes)
                    async for chunk in response.aiter_bytes():
                        body.add(chunk)
                    return body.finish(declared)
            finally:
                await response.aclose()
            current = target
        raise _too_many(current)
    except httpx.HTTPError as exc:
        raise _network_error(exc, current, timeout) from exc
    finally:
        if client is None:
            await http.aclose()


async def _afetch_within(
    url: str,
    mime_type: str | None,
    allow_private: bool,
    timeout: float,
    max_bytes: int,
    client: httpx.AsyncClient | None,
) -> tuple[bytes, str]:
    _check_args(timeout, max_bytes)
    try:
        # One deadline for lookups, redirects and a slowly dripping body together.
        return await asyncio.wait_for(
            _afetch(url, mime_type, allow_private, timeout, max_bytes, client), timeout
        )
    except asyncio.TimeoutError:
        raise MediaError(f"timed out after {timeout:g} s fetching {redact_url(url)}") from None


def load_url(
    url: str,
    *,
    allow_private: bool = False,
    timeout: float = 30.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: httpx.Client | None = None,
) -> tuple[bytes, str]:
    """Fetch ``url`` and return ``(body, mime_type)`` with a Gemini-accepted type.

    Safe for user-supplied URLs: only http/https; the host is resolved and every
    address checked (no loopback, private, link-local, CGNAT, metadata...), and
    the connection goes to the checked address, so a DNS answer cannot change in
    between (rebinding). Redirects are followed by hand, at most
    :data:`MAX_REDIRECTS`, each hop checked the same way. The body is streamed
    and refused past ``max_bytes``; ``timeout`` bounds the whole fetch.

    The response's Content-Type decides the type; a missing or
    ``application/octet-stream`` one means the bytes decide. Web pages, JSON and
    other unsupported types are refused by name, before the body is read.

    ``allow_private=True`` (local development, trusted input) skips the private-address
    check; metadata endpoints stay refused on every hop, by name, by address in any
    notation, and by what a name resolves to.
    The built-in client ignores ``*_PROXY`` variables; to go through a proxy,
    pass ``client=httpx.Client(proxy=...)`` with ``allow_private=True``, since a
    proxy resolves names itself and must enforce its own egress rules.

    >>> data, mime = load_url("https://upload.wikimedia.org/.../cat.jpg")
    >>> mime
    'image/jpeg'
    >>> load_url("http://169.254.169.254/latest/meta-data/")
    Traceback (most recent call last):
    ...
    segmind_gemini.errors.MediaError: refusing to fetch http://169.254.169.254/latest/...
    """
    return _fetch(url, None, allow_private, timeout, max_bytes, client)


async def aload_url(
    url: str,
    *,
    allow_private: bool = False,
    timeout: float = 30.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: httpx.AsyncClient | None = None,
) -> tuple[bytes, str]:
    """Async :func:`load_url` (names resolved through the running loop).

    >>> data, mime = await aload_url("https://example.com/report.pdf")
    """
    return await _afetch_within(url, None, allow_private, timeout, max_bytes, client)


def _data_url_part(url: str, mime_type: str | None) -> dict[str, Any]:
    part = inline_part_from_data_url(url)
    if mime_type is not None and not is_generic_mime_type(mime_type):
        part["inlineData"]["mimeType"] = normalize_mime_type(mime_type)
    return part


def part_from_url(
    url: str,
    mime_type: str | None = None,
    *,
    allow_private: bool = False,
    timeout: float = 30.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """Fetch ``url`` (see :func:`load_url`) into an ``inlineData`` part.

    A given ``mime_type`` wins over the server's Content-Type. ``data:`` URLs are
    decoded without any I/O, so adapters can pass image URLs through unchanged.

    >>> part_from_url("https://example.com/cat.png")["inlineData"]["mimeType"]
    'image/png'
    >>> part_from_url("data:image/jpeg;base64,/9j/4AAQ...")["inlineData"]["mimeType"]
    'image/jpeg'
    """
    if url[:5].lower() == "data:":
        return _data_url_part(url, mime_type)
    data, mime = _fetch(url, mime_type, allow_private, timeout, max_bytes, client)
    return _part(mime, _encode(data))


async def apart_from_url(
    url: str,
    mime_type: str | None = None,
    *,
    allow_private: bool = False,
    timeout: float = 30.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    client: httpx.AsyncClient | None = None,
) -> dict[str, Any]:
    """Async :func:`part_from_url`.

    >>> part = await apart_from_url("https://example.com/cat.png")
    """
    if url[:5].lower() == "data:":
        return _data_url_part(url, mime_type)
    data, mime = await _afetch_within(url, mime_type, allow_private, timeout, max_bytes, client)
    return _part(mime, _encode(data))
