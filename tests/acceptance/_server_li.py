"""A scripted HTTP server for the LlamaIndex acceptance tests (not the package's emulator).

It knows nothing about Segmind or Gemini. Every request is recorded; each one is
answered with the next queued reply (status, JSON or text body, headers, optional
delay). With nothing queued it answers HTTP 599, so a test that sends more requests
than it scripted fails loudly. ``serve_file`` publishes a static file under
``/files/<name>`` that does not consume the queue (for media-URL fetches).

An aiohttp server in a background thread on 127.0.0.1, ephemeral port.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = ["LIRequest", "LIScriptedServer"]


@dataclass
class LIRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def gemini(self) -> dict[str, Any]:
        """The Gemini request inside Segmind's ``{"messages": ...}`` envelope."""
        data = self.json
        assert isinstance(data, dict) and set(data) == {"messages"}, data
        inner = data["messages"]
        assert isinstance(inner, dict)
        return inner


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float


class LIScriptedServer:
    def __init__(self) -> None:
        self.requests: list[LIRequest] = []
        self._replies: deque[_Reply] = deque()
        self._files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, name="li-scripted-server", daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LIScriptedServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("scripted server did not start")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # ------------------------------------------------------------------ scripting

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._replies.clear()
            self._files.clear()

    def reply(
        self,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Queue an answer: a dict/list is sent as JSON, str/bytes as they are."""
        hdrs = dict(headers or {})
        if isinstance(body, dict | list):
            raw = json.dumps(body).encode()
            hdrs.setdefault("content-type", "application/json")
        elif isinstance(body, str):
            raw = body.encode()
            hdrs.setdefault("content-type", "text/plain")
        else:
            raw = body or b""
        with self._lock:
            for _ in range(times):
                self._replies.append(_Reply(status, raw, hdrs, delay))

    def serve_file(self, name: str, data: bytes, content_type: str) -> str:
        with self._lock:
            self._files[name] = (data, content_type)
        return self.url(f"/files/{name}")

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    @property
    def posts(self) -> list[LIRequest]:
        return [r for r in self.requests if r.method == "POST"]

    # ------------------------------------------------------------------ handler

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        rec = LIRequest(
            request.method,
            request.path,
            {k.lower(): v for k, v in request.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(rec)
            if request.path.startswith("/files/"):
                name = request.path[len("/files/") :]
                found = self._files.get(name)
                if found is None:
                    return web.Response(status=404, text="no such file")
                return web.Response(body=found[0], headers={"content-type": found[1]})
            reply = self._replies.popleft() if self._replies else None
        if reply is None:
            return web.json_response({"error": "scripted server: nothing queued"}, status=599)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
