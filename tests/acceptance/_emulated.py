"""Helpers for the acceptance tests: queue exact answers on the emulator; serve files.

``reply`` queues one exact answer (``SegmindEmulator.queue_response``) or a fault;
``FileHost`` serves files for media URLs (a plain static server, not a Segmind stand-in).
"""

from __future__ import annotations

import http.server
import threading
from typing import Any

from segmind_gemini.testing import RecordedRequest, SegmindEmulator

#: The key the core and LangChain acceptance tests send.
CORE_KEY = "sk-acceptance-SECRET-4f1c9a7e2b"


def reply(
    emu: SegmindEmulator,
    status: int = 200,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    delay: float = 0.0,
    fault: str | None = None,
    times: int = 1,
) -> None:
    """Queue ``times`` copies of an exact answer, or of the fault ``fault`` (a str body
    is sent as text/plain unless ``headers`` say otherwise)."""
    extra = dict(headers or {})
    if isinstance(body, str) and not any(k.lower() == "content-type" for k in extra):
        extra["content-type"] = "text/plain"
    for _ in range(times):
        if fault is not None:
            emu.queue_fault(fault, delay=delay)
        else:
            emu.queue_response(
                b"" if body is None else body, status=status, headers=extra, delay=delay
            )


def posts(emu: SegmindEmulator) -> list[RecordedRequest]:
    return [r for r in emu.requests if r.method == "POST"]


class _FileHandler(http.server.BaseHTTPRequestHandler):
    files: dict[str, tuple[int, bytes, dict[str, str]]]
    seen: list[tuple[str, str, dict[str, str]]]

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
        found = self.files.get(self.path)
        if found is None:
            self.send_error(404)
            return
        status, body, headers = found
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class FileHost:
    """A static file server on loopback, for media URLs."""

    def __init__(self) -> None:
        self._handler = type("Handler", (_FileHandler,), {"files": {}, "seen": []})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        return list(self._handler.seen)

    def serve(
        self, path: str, body: bytes, headers: dict[str, str] | None = None, status: int = 200
    ) -> str:
        """Answer GET ``path`` with ``body``; returns its URL."""
        self._handler.files[path] = (status, body, dict(headers or {}))
        return f"http://127.0.0.1:{self.port}{path}"

    def serve_file(self, name: str, data: bytes, content_type: str) -> str:
        return self.serve(f"/files/{name}", data, {"Content-Type": content_type})

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join()
