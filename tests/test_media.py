"""Media loading: MIME rules, sniffing, part constructors, and safe URL fetching.

Fetches go to a tiny HTTP server on 127.0.0.1 (``allow_private=True``) or to
``httpx.MockTransport`` with a faked resolver; nothing connects beyond loopback.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from segmind_gemini.errors import MediaError
from segmind_gemini.media import urlguard
from segmind_gemini.media.loader import (
    MAX_REDIRECTS,
    aload_url,
    apart_from_url,
    inline_part_from_base64,
    inline_part_from_bytes,
    inline_part_from_data_url,
    load_url,
    part_from_url,
)
from segmind_gemini.media.mime import (
    SUPPORTED_MIME_TYPES,
    normalize_mime_type,
    resolve_mime_type,
    sniff_mime_type,
)
from segmind_gemini.media.urlguard import blocked_reason, check_url, redact_url

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(48)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
GIF = b"GIF89a\x01\x00\x01\x00" + bytes(20)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- local HTTP server ------------------------------------------------------------------------

ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/cat.png": (200, {"Content-Type": "image/png"}, PNG),
    "/doc.pdf": (200, {"Content-Type": "application/pdf"}, PDF),
    "/page.html": (200, {"Content-Type": "text/html; charset=utf-8"}, b"<!doctype html><p>hi"),
    "/api.json": (200, {"Content-Type": "application/json"}, b'{"a": 1}'),
    "/octet.png": (200, {"Content-Type": "application/octet-stream"}, PNG),
    "/notype.jpg": (200, {}, JPEG),
    "/alias.jpg": (200, {"Content-Type": "image/jpg"}, JPEG),
    "/anim.gif": (200, {"Content-Type": "image/gif"}, GIF),
    "/mystery.bin": (200, {"Content-Type": "binary/octet-stream"}, b"\x01\x02\x03 no magic"),
    "/empty.png": (200, {"Content-Type": "image/png"}, b""),
    "/big.png": (200, {"Content-Type": "image/png"}, PNG + bytes(4000)),
    "/redirect": (302, {"Location": "/cat.png"}, b""),
    "/redirect-twice": (301, {"Location": "/redirect"}, b""),
    "/loop": (302, {"Location": "/loop"}, b""),
    "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
    "/missing": (404, {"Content-Type": "text/plain"}, b"not here"),
}


class Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []  # (path, Host header) of each request

    def do_GET(self) -> None:
        Handler.seen.append((self.path, self.headers.get("Host", "")))
        path = self.path.split("?", 1)[0]
        if path == "/stream.png":
            # No Content-Length: the cap must trip while reading.
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)
            for _ in range(50):
                self.wfile.write(bytes(1000))
            return
        if path == "/slow.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)
            self.wfile.flush()
            time.sleep(1.0)
            return
        status, headers, body = ROUTES.get(path, (404, {}, b""))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# --- a fake resolver for public-host cases -------------------------------------------------


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def fake_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    """Make getaddrinfo answer from ``table`` (IP literals pass through); return lookups."""
    lookups: list[str] = []

    def getaddrinfo(
        host: str, port: int, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[Any, ...]]:
        lookups.append(host)
        if host not in table and _is_ip(host):
            table[host] = [host]  # the connection layer resolves the pinned address again
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[tuple[Any, ...]] = []
        for ip in table[host]:
            if ":" in ip:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return out

    # asyncio's loop.getaddrinfo looks up socket.getaddrinfo at call time, so
    # this one patch covers the sync and the async path.
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.Client, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handler(request)

    return httpx.Client(transport=httpx.MockTransport(record)), sent


# --- MIME types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("image/png", "image/png"),
        ("IMAGE/JPEG", "image/jpeg"),
        ("image/jpg", "image/jpeg"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("audio/x-wav", "audio/wav"),
        ("audio/wave", "audio/wav"),
        ("audio/x-flac", "audio/flac"),
        ("audio/mpeg", "audio/mpeg"),
        ("video/x-msvideo", "video/avi"),
        ("video/quicktime", "video/quicktime"),
        ("application/x-pdf", "application/pdf"),
    ],
)
def test_normalize_mime_type(given: str, expected: str) -> None:
    assert normalize_mime_type(given) == expected


def test_every_supported_type_normalizes_to_itself() -> None:
    for mime in SUPPORTED_MIME_TYPES:
        assert normalize_mime_type(mime) == mime


def test_gif_is_refused_by_name() -> None:
    with pytest.raises(MediaError, match="image/gif is not supported by Gemini; convert it to PNG"):
        normalize_mime_type("image/gif")


def test_unknown_type_lists_accepted_types() -> None:
    with pytest.raises(MediaError) as info:
        normalize_mime_type("application/zip")
    message = str(info.value)
    assert "application/zip" in message
    assert "image/png" in message
    assert "video/3gpp" in message
    assert isinstance(info.value, ValueError)


def test_html_is_refused_by_name() -> None:
    with pytest.raises(MediaError, match=r"text/html .*web page"):
        normalize_mime_type("text/html")


def test_empty_type_is_refused() -> None:
    with pytest.raises(MediaError, match="no media type given"):
        normalize_mime_type("  ")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (GIF, "image/gif"),
        (PDF, "application/pdf"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf", "image/heif"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "image/avif"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mp3"),
        (b"\xff\xfb\x90\x64" + bytes(8), "audio/mp3"),
        (b"\xff\xf1\x50\x80" + bytes(8), "audio/aac"),
        (b"OggS\x00\x02" + bytes(20), "audio/ogg"),
        (b"fLaC\x00\x00\x00\x22", "audio/flac"),
        (b"FORM\x00\x00\x00\x00AIFFCOMM", "audio/aiff"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "video/quicktime"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00isom", "video/3gpp"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video/avi"),
        (b"\x00\x00\x01\xba\x44\x00", "video/mpeg"),
        (b"FLV\x01\x05", "video/x-flv"),
        (b"  <!DOCTYPE html><html>", "text/html"),
        (b"just some text", None),
        (b"", None),
    ],
)
def test_sniff_mime_type(head: bytes, expected: str | None) -> None:
    assert sniff_mime_type(head) == expected


def test_declared_type_wins_unless_generic() -> None:
    # A specific declaration is trusted even if the bytes look like something else...
    assert resolve_mime_type(PNG, "image/jpeg") == "image/jpeg"
    # ...but a generic or missing one lets the bytes decide.
    assert resolve_mime_type(PNG, "application/octet-stream") == "image/png"
    assert resolve_mime_type(PNG, None) == "image/png"
    with pytest.raises(MediaError, match="could not recognise"):
        resolve_mime_type(b"???", None)


# --- constructors ----------------------------------------------------------------------------


def test_inline_part_from_bytes() -> None:
    part = inline_part_from_bytes(PNG)
    assert part == {"inlineData": {"mimeType": "image/png", "data": b64(PNG)}}
    assert inline_part_from_bytes(bytearray(PDF))["inlineData"]["mimeType"] == "application/pdf"
    assert inline_part_from_bytes(b"hello", "text/plain")["inlineData"] == {
        "mimeType": "text/plain",
        "data": "aGVsbG8=",
    }
    assert inline_part_from_bytes(memoryview(JPEG), "image/jpg")["inlineData"]["mimeType"] == (
        "image/jpeg"
    )


def test_inline_part_from_bytes_refusals() -> None:
    with pytest.raises(MediaError, match="image/gif is not supported"):
        inline_part_from_bytes(GIF)
    with pytest.raises(MediaError, match=r"could not recognise .*pass mime_type"):
        inline_part_from_bytes(b"no magic here")
    with pytest.raises(MediaError, match="empty"):
        inline_part_from_bytes(b"", "image/png")


def test_inline_part_from_base64() -> None:
    assert inline_part_from_base64(b64(PNG)) == inline_part_from_bytes(PNG)
    assert inline_part_from_base64(b64(PNG), "image/png")["inlineData"]["data"] == b64(PNG)
    # Wrapped lines are joined, URL-safe and unpadded input is made standard.
    wrapped = base64.encodebytes(PNG * 3).decode()
    assert "\n" in wrapped
    assert inline_part_from_base64(wrapped)["inlineData"]["data"] == b64(PNG * 3)
    raw = b"\xff\xd8\xff\xfe\xfb\xef"
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert "-" in urlsafe or "_" in urlsafe
    part = inline_part_from_base64(urlsafe)
    assert part["inlineData"] == {"mimeType": "image/jpeg", "data": b64(raw)}
    unpadded = b64(b"hello").rstrip("=")
    assert inline_part_from_base64(unpadded, "text/plain")["inlineData"]["data"] == "aGVsbG8="


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ("aGVs*bG8=", r"not valid base64: '\*' at position 4"),
        ("aG=Vs", "not valid base64: '=' at position 2"),
        ("aGVsb", "cannot encode whole bytes"),
        ("aGVsbG8", None),  # valid once padded: not an error
        ("aGVsbG=", "cannot encode whole bytes"),
        ("", "empty"),
        ("data:image/png;base64,aGk=", "use inline_part_from_data_url"),
        ("héllo", "not valid base64"),
    ],
)
def test_bad_base64(bad: str, match: str | None) -> None:
    if match is None:
        inline_part_from_base64(bad, "text/plain")
        return
    with pytest.raises(MediaError, match=match):
        inline_part_from_base64(bad, "text/plain")


def test_base64_sniffing_refusals() -> None:
    with pytest.raises(MediaError, match="image/gif"):
        inline_part_from_base64(b64(GIF))
    with pytest.raises(MediaError, match="could not recognise"):
        inline_part_from_base64(b64(b"plain words"))


def test_inline_part_from_data_url() -> None:
    part = inline_part_from_data_url(f"data:image/png;base64,{b64(PNG)}")
    assert part == inline_part_from_bytes(PNG)
    # Type sniffed when the header has none or a generic one.
    assert inline_part_from_data_url(f"data:;base64,{b64(PDF)}")["inlineData"]["mimeType"] == (
        "application/pdf"
    )
    octet = f"data:application/octet-stream;base64,{b64(JPEG)}"
    assert inline_part_from_data_url(octet)["inlineData"]["mimeType"] == "image/jpeg"
    # Parameters before ;base64 and percent-escaped base64 are fine.
    escaped = b64(PNG).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    assert inline_part_from_data_url(f"DATA:image/png;name=a.png;base64,{escaped}") == part
    # Percent-encoded (non-base64) payloads, with RFC 2397's text/plain default.
    assert inline_part_from_data_url("data:,hello%20world")["inlineData"] == {
        "mimeType": "text/plain",
        "data": b64(b"hello world"),
    }
    assert inline_part_from_data_url("data:text/plain;charset=utf-8,hi")["inlineData"] == {
        "mimeType": "text/plain",
        "data": "aGk=",
    }


def test_data_url_refusals() -> None:
    with pytest.raises(MediaError, match="not a data URL"):
        inline_part_from_data_url("https://example.com/a.png")
    with pytest.raises(MediaError, match="no ','"):
        inline_part_from_data_url("data:image/png;base64")
    with pytest.raises(MediaError, match="image/gif is not supported"):
        inline_part_from_data_url(f"data:image/gif;base64,{b64(GIF)}")
    with pytest.raises(MediaError, match="not valid base64"):
        inline_part_from_data_url("data:image/png;base64,!!!!")
    with pytest.raises(MediaError, match="could not recognise"):
        inline_part_from_data_url(f"data:application/octet-stream;base64,{b64(b'xyz')}")


# --- address guard -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("2002:a00:1::", "private"),  # 6to4 around 10.0.0.1
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 around 127.0.0.1
        ("192.0.2.10", "address"),  # documentation range: not global
        ("93.184.216.34", None),
        ("2606:2800:220:1::1", None),
    ],
)
def test_blocked_reason(address: str, reason: str | None) -> None:
    got = blocked_reason(address)
    if reason is None:
        assert got is None
    else:
        assert got is not None
        assert reason in got


@pytest.mark.parametrize("scheme", ["file", "ftp", "gopher"])
def test_other_schemes_refused_by_name(scheme: str) -> None:
    with pytest.raises(MediaError, match=f"{scheme}: URLs are not fetched; only http and https"):
        load_url(f"{scheme}://example.com/cat.png")


def test_metadata_host_refused_even_with_allow_private() -> None:
    for url in (
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/",  # 169.254.169.254 as one number
    ):
        with pytest.raises(MediaError, match="cloud metadata"):
            load_url(url, allow_private=True)


def test_redact_url_drops_credentials_and_query() -> None:
    assert redact_url("https://u:pw@cdn.example:8443/a.png?sig=SECRET#f") == (
        "https://cdn.example:8443/a.png"
    )
    assert check_url("HTTPS://Example.com/x").host == "example.com"


# --- fetching from the local server -----------------------------------------------------


def test_load_png_pdf(server: str) -> None:
    assert load_url(f"{server}/cat.png", allow_private=True) == (PNG, "image/png")
    assert load_url(f"{server}/doc.pdf", allow_private=True) == (PDF, "application/pdf")


def test_loopback_refused_without_allow_private(server: str) -> None:
    with pytest.raises(MediaError, match=r"127\.0\.0\.1, a loopback address .*allow_private=True"):
        load_url(f"{server}/cat.png")
    port = server.rsplit(":", 1)[1]
    for host in ("localhost", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]"):
        with pytest.raises(MediaError, match="loopback"):
            load_url(f"http://{host}:{port}/cat.png")


def test_odd_notation_reaches_the_same_server(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    assert load_url(f"http://2130706433:{port}/cat.png", allow_private=True)[1] == "image/png"


def test_content_type_handling(server: str) -> None:
    assert load_url(f"{server}/octet.png", allow_private=True) == (PNG, "image/png")
    assert load_url(f"{server}/notype.jpg", allow_private=True) == (JPEG, "image/jpeg")
    assert load_url(f"{server}/alias.jpg", allow_private=True)[1] == "image/jpeg"
    with pytest.raises(MediaError, match=r"page\.html: text/html .*web page"):
        load_url(f"{server}/page.html", allow_private=True)
    with pytest.raises(MediaError, match="application/json"):
        load_url(f"{server}/api.json", allow_private=True)
    with pytest.raises(MediaError, match="image/gif is not supported"):
        load_url(f"{server}/anim.gif", allow_private=True)
    with pytest.raises(MediaError, match=r"could not recognise the format of .*mystery\.bin"):
        load_url(f"{server}/mystery.bin", allow_private=True)
    with pytest.raises(MediaError, match="empty body"):
        load_url(f"{server}/empty.png", allow_private=True)


def test_declared_mime_type_overrides_server(server: str) -> None:
    part = part_from_url(f"{server}/mystery.bin", "text/plain", allow_private=True)
    assert part["inlineData"]["mimeType"] == "text/plain"


def test_part_from_url(server: str) -> None:
    assert part_from_url(f"{server}/cat.png", allow_private=True) == inline_part_from_bytes(PNG)
    # data: URLs need no fetch and no permission.
    assert part_from_url(f"data:image/png;base64,{b64(PNG)}") == inline_part_from_bytes(PNG)


def test_size_caps(server: str) -> None:
    with pytest.raises(
        MediaError, match=r"4080 bytes \(Content-Length\), larger than max_bytes=1000"
    ):
        load_url(f"{server}/big.png", allow_private=True, max_bytes=1000)
    with pytest.raises(MediaError, match=r"larger than max_bytes=1000 .*stopped after \d+ bytes"):
        load_url(f"{server}/stream.png", allow_private=True, max_bytes=1000)
    assert len(load_url(f"{server}/stream.png", allow_private=True)[0]) == len(PNG) + 50_000


def test_redirects(server: str) -> None:
    assert load_url(f"{server}/redirect", allow_private=True) == (PNG, "image/png")
    assert load_url(f"{server}/redirect-twice", allow_private=True)[1] == "image/png"
    with pytest.raises(MediaError, match=f"more than {MAX_REDIRECTS} redirects"):
        load_url(f"{server}/loop", allow_private=True)
    with pytest.raises(MediaError, match="file: URLs are not fetched"):
        load_url(f"{server}/to-file", allow_private=True)


def test_http_error_names_status_without_query(server: str) -> None:
    with pytest.raises(MediaError) as info:
        load_url(f"{server}/missing?token=SECRET", allow_private=True)
    assert "HTTP 404" in str(info.value)
    assert f"{server}/missing" in str(info.value)
    assert "SECRET" not in str(info.value)


def test_timeout_bounds_the_whole_fetch(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(MediaError, match=r"timed out after 0.3 s"):
        load_url(f"{server}/slow.png", allow_private=True, timeout=0.3)
    assert time.monotonic() - started < 0.9


def test_connection_error_is_media_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    with pytest.raises(MediaError, match="could not fetch"):
        load_url(f"http://127.0.0.1:{port}/x.png", allow_private=True)


def test_caller_client_is_used_and_left_open(server: str) -> None:
    with httpx.Client() as client:
        assert load_url(f"{server}/cat.png", allow_private=True, client=client)[1] == "image/png"
        assert load_url(f"{server}/doc.pdf", allow_private=True, client=client)[1] == (
            "application/pdf"
        )
        assert not client.is_closed


def test_bad_arguments() -> None:
    with pytest.raises(MediaError, match="timeout"):
        load_url("https://example.com/a.png", timeout=0)
    with pytest.raises(MediaError, match="max_bytes"):
        load_url("https://example.com/a.png", max_bytes=0)


# --- pinning and the guard on public hosts (faked DNS, no real connections) --------------


def test_pinned_connection_keeps_the_host_name(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Treat loopback as public so a real socket shows what a pinned request looks like.
    monkeypatch.setattr(urlguard, "blocked_reason", lambda address: None)
    lookups = fake_dns(monkeypatch, {"media.test": ["127.0.0.1"]})
    port = server.rsplit(":", 1)[1]
    Handler.seen.clear()
    assert load_url(f"http://media.test:{port}/redirect") == (PNG, "image/png")
    assert Handler.seen == [("/redirect", f"media.test:{port}"), ("/cat.png", f"media.test:{port}")]
    # The guard resolves the name once per hop; the connection only ever sees the address.
    assert lookups == ["media.test", "127.0.0.1", "media.test", "127.0.0.1"]


def test_public_host_is_pinned_to_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    # DNS rebinding: the second answer would be loopback, but it is never asked for.
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in next(answers)
        ],
    )
    client, sent = mock_client(
        lambda request: httpx.Response(200, headers={"Content-Type": "image/png"}, content=PNG)
    )
    assert load_url("https://cdn.example/cat.png?sig=1", client=client) == (PNG, "image/png")
    (request,) = sent
    assert request.url.host == "93.184.216.34"
    assert request.url.query == b"sig=1"
    assert request.headers["host"] == "cdn.example"
    assert request.extensions["sni_hostname"] == "cdn.example"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "cloud metadata"),
        ("10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
    ],
)
def test_names_resolving_to_internal_addresses_are_refused(
    monkeypatch: pytest.MonkeyPatch, address: str, reason: str
) -> None:
    fake_dns(monkeypatch, {"evil.example": [address]})
    client, sent = mock_client(lambda request: httpx.Response(200, content=PNG))
    with pytest.raises(MediaError, match=f"evil.example resolves to .*{reason}"):
        load_url("http://evil.example/cat.png", client=client)
    assert sent == []


def test_any_internal_address_among_several_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"mixed.example": ["93.184.216.34", "10.1.2.3"]})
    with pytest.raises(MediaError, match=r"10\.1\.2\.3, a private address"):
        load_url("http://mixed.example/cat.png")


def test_redirect_hop_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"cdn.example": ["93.184.216.34"], "127.0.0.1": ["127.0.0.1"]})
    client, sent = mock_client(
        lambda request: httpx.Response(302, headers={"Location": "http://127.0.0.1/admin"})
    )
    with pytest.raises(
        MediaError, match=r"refusing to fetch http://127\.0\.0\.1/admin: .*loopback"
    ):
        load_url("https://cdn.example/cat.png", client=client)
    assert [r.url.host for r in sent] == ["93.184.216.34"]


def test_next_address_is_tried_when_one_does_not_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"two.example": ["2606:2800:220:1::1", "93.184.216.34"]})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host != "93.184.216.34":
            raise httpx.ConnectError("no route to host", request=request)
        return httpx.Response(200, headers={"Content-Type": "application/pdf"}, content=PDF)

    client, sent = mock_client(handler)
    assert load_url("http://two.example/doc.pdf", client=client) == (PDF, "application/pdf")
    assert [r.url.host for r in sent] == ["2606:2800:220:1::1", "93.184.216.34"]
    assert str(sent[0].url).startswith("http://[2606:2800:220:1::1]/")


def test_unresolvable_host(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {})
    with pytest.raises(MediaError, match=r"could not resolve the host of http://nowhere.example/"):
        load_url("http://nowhere.example/a.png")


# --- async ------------------------------------------------------------------------------


async def test_aload_url(server: str) -> None:
    assert await aload_url(f"{server}/cat.png", allow_private=True) == (PNG, "image/png")
    assert await aload_url(f"{server}/redirect", allow_private=True) == (PNG, "image/png")
    part = await apart_from_url(f"{server}/octet.png", allow_private=True)
    assert part == inline_part_from_bytes(PNG)
    assert await apart_from_url(f"data:image/png;base64,{b64(PNG)}") == part


async def test_aload_url_refusals(server: str) -> None:
    with pytest.raises(MediaError, match="loopback"):
        await aload_url(f"{server}/cat.png")
    with pytest.raises(MediaError, match="text/html"):
        await aload_url(f"{server}/page.html", allow_private=True)
    with pytest.raises(MediaError, match="larger than max_bytes=1000"):
        await aload_url(f"{server}/stream.png", allow_private=True, max_bytes=1000)
    with pytest.raises(MediaError, match="HTTP 404"):
        await aload_url(f"{server}/missing", allow_private=True)
    with pytest.raises(MediaError, match="gopher: URLs are not fetched"):
        await aload_url("gopher://example.com/")
    with pytest.raises(MediaError, match=r"timed out after 0.3 s"):
        await aload_url(f"{server}/slow.png", allow_private=True, timeout=0.3)


async def test_async_guard_uses_the_loop_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"cdn.example": ["93.184.216.34"], "meta.example": ["169.254.169.254"]})
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/hop":
            return httpx.Response(307, headers={"Location": "http://meta.example/latest"})
        return httpx.Response(200, headers={"Content-Type": "image/png"}, content=PNG)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert await aload_url("https://cdn.example/a.png", client=client) == (PNG, "image/png")
        assert sent[0].url.host == "93.184.216.34"
        assert sent[0].headers["host"] == "cdn.example"
        with pytest.raises(MediaError, match=r"meta.example resolves to .*cloud metadata"):
            await aload_url("https://cdn.example/hop", client=client)
    assert len(sent) == 2


# --- metadata in every notation, on every hop, also with allow_private (issue 9) ----------

METADATA_FORMS = [
    "[::ffff:169.254.169.254]",  # IPv4-mapped
    "[::ffff:a9fe:a9fe]",  # the same, in hex
    "[::169.254.169.254]",  # IPv4-compatible (deprecated)
    "[2002:a9fe:a9fe::1]",  # 6to4
    "[64:ff9b::a9fe:a9fe]",  # NAT64
    "[fd00:ec2::254]",  # AWS's IPv6 endpoint
    "[::ffff:100.100.100.200]",  # Alibaba, mapped
]


@pytest.mark.parametrize("host", METADATA_FORMS)
@pytest.mark.parametrize("allow_private", [False, True])
async def test_metadata_literals_refused_in_every_ipv6_form(
    monkeypatch: pytest.MonkeyPatch, host: str, allow_private: bool
) -> None:
    fake_dns(monkeypatch, {})
    client, sent = mock_client(lambda request: httpx.Response(200, content=PNG))
    with pytest.raises(MediaError, match="cloud metadata"):
        load_url(f"http://{host}/latest/meta-data/", allow_private=allow_private, client=client)
    with pytest.raises(MediaError, match="cloud metadata"):
        await aload_url(f"http://{host}/latest/", allow_private=allow_private)
    assert sent == []


@pytest.mark.parametrize(
    "target", ["http://[::ffff:169.254.169.254]/latest", "http://[::169.254.169.254]/"]
)
def test_redirect_to_mapped_metadata_refused_with_allow_private(
    monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    fake_dns(monkeypatch, {"cdn.example": ["10.0.0.5"]})
    client, sent = mock_client(lambda request: httpx.Response(302, headers={"Location": target}))
    with pytest.raises(MediaError, match="cloud metadata"):
        load_url("http://cdn.example/cat.png", allow_private=True, client=client)
    assert len(sent) == 1


@pytest.mark.parametrize("address", ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254"])
async def test_names_resolving_to_metadata_refused_with_allow_private_on_every_hop(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    fake_dns(monkeypatch, {"sneaky.example": [address], "cdn.example": ["10.0.0.5"]})
    client, sent = mock_client(lambda request: httpx.Response(200, content=PNG))
    with pytest.raises(MediaError, match=r"sneaky\.example resolves to .*cloud metadata"):
        load_url("http://sneaky.example/x.png", allow_private=True, client=client)
    with pytest.raises(MediaError, match=r"sneaky\.example resolves to .*cloud metadata"):
        await aload_url("http://sneaky.example/x.png", allow_private=True)
    assert sent == []
    hop, hops = mock_client(
        lambda request: httpx.Response(302, headers={"Location": "http://sneaky.example/m"})
    )
    with pytest.raises(MediaError, match=r"sneaky\.example resolves to .*cloud metadata"):
        load_url("http://cdn.example/cat.png", allow_private=True, client=hop)
    assert len(hops) == 1


def test_allow_private_pins_own_connections_to_the_checked_address(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rebinding resolver: public-looking first, metadata afterwards. The fetch
    # connects to the first (checked) answer and never asks again for that hop.
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in next(answers)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    port = server.rsplit(":", 1)[1]
    got = load_url(f"http://rebind.example:{port}/cat.png", allow_private=True, timeout=5)
    assert got == (PNG, "image/png")


def test_blocked_reason_judges_the_ipv4_inside_ipv6_forms() -> None:
    assert blocked_reason("::127.0.0.1") == "a loopback address"
    assert blocked_reason("::ffff:10.0.0.1") == "a private address"
    assert blocked_reason("2002:a9fe:a9fe::") == "a cloud metadata address"
    assert blocked_reason("::1") == "a loopback address"
    assert blocked_reason("::") == "an unspecified address"
