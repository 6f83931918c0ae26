"""A scripted HTTP server for the acceptance tests (not the package's emulator).

It knows nothing about Segmind or Gemini: each request is recorded and answered
with the next scripted reply (status, body, headers, an optional delay, or a
fault: a reset connection or a body cut short). Nothing scripted -> HTTP 599,
so a test that sends more requests than it expects fails loudly.

Runs an aiohttp server in a background thread on 127.0.0.1 (ephemeral port).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    started: float
    finished: float = 0.0

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def messages(self) -> Any:
        """The Gemini request inside Segmind's ``{"messages": ...}`` envelope."""
        return self.json["messages"]


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    fault: str | None = None  # "reset" | "truncate" | "drip" (body in 10 pieces, 0.2 s apart)
    path: str | None = None  # only answer a request whose path starts with this
    match: str | None = None  # only answer a request whose body contains this text


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.active = 0
        self.max_active = 0

    # ------------------------------------------------------------------ lifecycle

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def start(self) -> ScriptedServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        async def _stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"

    # -------------------------------------------------------------------- script

    def reply(
        self,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        delay: float = 0.0,
        fault: str | None = None,
        path: str | None = None,
        match: str | None = None,
        times: int = 1,
    ) -> None:
        with self._lock:
            for _ in range(times):
                self._script.append(
                    Reply(status, body, dict(headers or {}), delay, fault, path, match)
                )

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.max_active = 0

    @property
    def pending(self) -> int:
        return len(self._script)

    def _next(self, path: str, body: bytes) -> Reply | None:
        text = body.decode("utf-8", "replace")
        with self._lock:
            for i, r in enumerate(self._script):
                if (r.path is None or path.startswith(r.path)) and (
                    r.match is None or r.match in text
                ):
                    del self._script[i]
                    return r
        return None

    # ------------------------------------------------------------------- handler

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        rec = Recorded(
            request.method,
            request.path,
            request.query_string,
            {k.lower(): v for k, v in request.headers.items()},
            body,
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(rec)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            reply = self._next(request.path, body)
            if reply is None:
                return web.json_response({"error": "nothing scripted"}, status=599)
            if reply.delay and reply.fault != "drip":
                await asyncio.sleep(reply.delay)
            payload: bytes
            headers = dict(reply.headers)
            if isinstance(reply.body, (dict, list)):
                payload = json.dumps(reply.body).encode()
                headers.setdefault("Content-Type", "application/json")
            elif isinstance(reply.body, str):
                payload = reply.body.encode()
            elif reply.body is None:
                payload = b""
            else:
                payload = bytes(reply.body)
            if reply.fault == "reset":
                assert request.transport is not None
                request.transport.abort()
                raise asyncio.CancelledError
            if reply.fault == "truncate":
                resp = web.StreamResponse(status=reply.status, headers=headers)
                resp.content_length = len(payload)
                await resp.prepare(request)
                await resp.write(payload[: len(payload) // 2])
                assert request.transport is not None
                request.transport.abort()
                raise asyncio.CancelledError
            if reply.fault == "drip":
                # Headers at once, then the body a few bytes at a time, ``delay`` apart.
                resp = web.StreamResponse(status=reply.status, headers=headers)
                resp.content_length = len(payload)
                await resp.prepare(request)
                step = max(1, len(payload) // 10)
                for i in range(0, len(payload), step):
                    await resp.write(payload[i : i + step])
                    await asyncio.sleep(0.2)
                await resp.write_eof()
                return resp
            return web.Response(status=reply.status, body=payload, headers=headers)
        finally:
            rec.finished = time.monotonic()
            with self._lock:
                self.active -= 1
