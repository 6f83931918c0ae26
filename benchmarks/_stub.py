"""A stub of Segmind's endpoint, run in its own process, for the benchmarks.

It answers every ``POST /v1/<slug>`` with the same small Gemini body after
holding the request ``hold_ms`` milliseconds, and reads (then discards) the body
so large uploads are received in full. Run alone: ``python benchmarks/_stub.py 8123 100``.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

BODY = json.dumps(
    {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "stub answer"}]},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
        "modelVersion": "stub",
        "responseId": "stub-1",
    }
).encode()
HEADERS = {
    "content-type": "application/json",
    "x-request-id": "stub",
    "x-cost": "0.0001",
    "x-remaining-credits": "1.0",
    "x-generation-time": "0.1",
}


def _serve(port: int, hold_ms: float) -> None:
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        if hold_ms:
            await asyncio.sleep(hold_ms / 1000)
        return web.Response(body=BODY, headers=HEADERS)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/{slug}", answer)
    web.run_app(app, host="127.0.0.1", port=port, print=None, backlog=1024, access_log=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_in_process(target: Callable[..., None], *args: object) -> Iterator[str]:
    """Run ``target(port, *args)`` (an HTTP server) in a child process until it accepts
    connections; yield its origin (``http://127.0.0.1:N``)."""
    port = _free_port()
    proc = mp.get_context("spawn").Process(target=target, args=(port, *args), daemon=True)
    proc.start()
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or not proc.is_alive():
                proc.kill()
                raise RuntimeError("the stub server did not start") from None
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.join(5)


@contextmanager
def stub_server(hold_ms: float = 0.0) -> Iterator[str]:
    """Start the stub in a child process; yield its base URL (``http://127.0.0.1:N/v1``)."""
    with serve_in_process(_serve, hold_ms) as origin:
        yield f"{origin}/v1"


if __name__ == "__main__":
    _serve(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
