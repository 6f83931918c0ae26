"""A local HTTP emulator of the Segmind API, for tests and offline demos.

:class:`SegmindEmulator` runs an ``aiohttp.web`` server on 127.0.0.1 in a background
thread with its own event loop, so both sync and async code can call it. It is a stand-in
for the HTTP service, not a model: its default answers say they are emulated, and any
other answer is one a test scripted.

>>> with SegmindEmulator() as emu:
...     emu.queue_text("Paris")
...     client = SegmindGeminiClient(emu.api_key, base_url=emu.base_url)
...     assert client.generate_content(request).text == "Paris"
...     assert emu.requests[0].messages["contents"][0]["role"] == "user"
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import os
import random
import secrets
import signal
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType, TracebackType
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from segmind_gemini.governor import forget_rate_limits
from segmind_gemini.registry import MODELS
from segmind_gemini.testing._billing import Ledger, money
from segmind_gemini.testing._faults import RANDOM_FAULTS, fault_script
from segmind_gemini.testing._queue import Job, JobBoard
from segmind_gemini.testing._replies import (
    HTML_405,
    MAX_REQUEST_BYTES,
    FieldPolicy,
    GatewayBehaviour,
    Outcome,
    ReplyContext,
    RequestInvalid,
    RequestSummary,
    Scripted,
    UnknownName,
    default_outcome,
    gemini_body,
    google_400,
    json_outcome,
    parse_request,
)
from segmind_gemini.testing._script import Scripting
from segmind_gemini.testing._server import LoopServer
from segmind_gemini.testing._windows import RateWindows

__all__ = ["DEFAULT_API_KEY", "RecordedRequest", "SegmindEmulator", "run_forever"]

#: The key the emulator accepts unless told otherwise.
DEFAULT_API_KEY = "emulator-key"
#: How many recent requests :func:`run_forever` keeps (tests' emulators keep all).
SERVE_HISTORY = 100

_UNAUTHORIZED = (
    "Unauthorized: provide a valid API key in the x-api-key header "
    "or as Authorization: Bearer <key>"
)
# aiohttp refuses bigger bodies itself (413); up to here the emulator answers like Gemini.
_CLIENT_MAX_SIZE = 64 * 1024 * 1024
_DEFAULT = Scripted("default", default_outcome)
#: What :attr:`SegmindEmulator.responder` is: Gemini request -> answer parts, or ``None``.
Responder = Callable[[Mapping[str, Any]], "Sequence[Mapping[str, Any]] | None"]


@dataclass(frozen=True, repr=False)
class RecordedRequest:
    """One HTTP request the emulator received, whatever its route or outcome.

    ``headers`` has lower-case names (use :meth:`header` for any spelling); ``json`` is the
    parsed body or ``None``; ``model`` is the slug of a ``/v1/{slug}`` or ``/v2/{slug}``
    call, else ``None``.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any | None
    model: str | None
    query: dict[str, str] = field(default_factory=dict)
    received_at: float = 0.0

    def __repr__(self) -> str:
        # Headers stay out of the repr: they hold whatever key the client sent.
        where = f" model={self.model!r}" if self.model else ""
        return f"RecordedRequest({self.method} {self.path}{where}, {len(self.body)} bytes)"

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header's value, looked up case-insensitively."""
        return self.headers.get(name.lower(), default)

    @property
    def messages(self) -> Any | None:
        """The Gemini request inside the body (its ``messages`` field), if any."""
        return self.json.get("messages") if isinstance(self.json, dict) else None


def _log_line(request: web.Request, size: int, response: web.StreamResponse, started: float) -> str:
    line = (
        f"{request.method} {request.path} -> {response.status} "
        f"({size} bytes in, {time.perf_counter() - started:.3f} s)"
    )
    body = response.body if isinstance(response, web.Response) else None
    if response.status >= 400 and isinstance(body, bytes):
        try:
            error = json.loads(body).get("error")
        except (ValueError, AttributeError, RecursionError):
            error = None
        if isinstance(error, dict):
            error = error.get("message")
        if isinstance(error, str):
            line += f": {error[:200]}"
    return line


class SegmindEmulator(Scripting):
    """A real HTTP server on loopback that speaks the Segmind API (v1 and v2 queue).

    Routes: ``POST /v1/{slug}``; ``POST /v2/{slug}`` (queue submit); ``GET
    /v2/requests/{id}/status``; ``GET /v2/requests/{id}``. Every route checks the key
    (``x-api-key`` or ``Authorization: Bearer``), POSTs must be JSON (else 406 "Invalid
    content type"), and model calls are validated like Gemini does (400 naming the
    problem and where). Every answer carries ``x-request-id``, ``x-cost``,
    ``x-remaining-credits`` and ``x-generation-time``. Only 2xx model answers are billed
    (``cost_per_call``); once ``credits`` fall below the cost, calls get 406
    "Insufficient credits". A v2 job is billed when its result is first fetched.

    Scripting: the ``queue_*`` methods append to one FIFO shared by v1 calls and v2
    submits, and return ``self`` so calls chain. Requests that fail auth or validation
    do not consume queued items. With nothing queued, a request gets (with probability
    ``fault_rate``, drawn from ``random.Random(seed)``) one of the faults reset,
    truncated, html_502 or rate_limit, else the default answer described in
    :func:`segmind_gemini.testing._replies.describe`. On v2, gateway-level faults
    (reset, truncated, html_502, rate_limit) hit the submit call; any other non-2xx
    scripted answer makes the job FAILED (HTTP 422 on poll) and a ``delay`` keeps the
    job PROCESSING at least that long.

    Args:
        api_key: the key clients must send.
        host, port: where to listen; port 0 picks a free port.
        seed: seeds the random fault draws.
        fault_rate: probability (0..1) of a random fault when nothing is queued.
        queue_polls: how many v2 polls answer QUEUED/PROCESSING before COMPLETED.
        cost_per_call: the ``x-cost`` of a billed answer.
        credits: the starting balance shown in ``x-remaining-credits``.
        rate_limit: ``(limit, window_s)``: admit ``limit`` model calls (v1 calls and v2
            submits) per key in each fixed window of ``window_s`` seconds (windows start
            on multiples of ``window_s`` in Unix time, as a per-minute counter would) and
            answer the rest 429 ``{"error": ...}`` with ``x-rate-limit-reset-at-utc``, as
            Segmind does. Refused calls do not count. ``None``: no limit.
        rate_limit_headers: ``False`` leaves the reset header out of those 429s (a server
            that gives no hint).
        history: keep only the last ``history`` requests in :attr:`requests` (``None``,
            the default: all of them; a long-running emulator should bound it).
        log: called with one line per request (method, path, status, size, and the
            error message of a refusal such as a 429); never the key.
        verbatim: answer every request, on any path and method, with the next queued
            answer exactly as queued (no key check, validation, routes or queue jobs);
            nothing queued: 599. For tests that script a gateway's exact exchanges,
            hostile ones included.
        responder: answers computed from each request when nothing is queued: called
            with the Gemini request (``messages``, as the gateway forwards it), it returns
            the parts of the answer, or ``None`` for the default answer. Scripts a test
            that sends many requests (a framework's own suite) from what each one asks.

    Gateway behaviour, to emulate what a gateway does with each optional Gemini field
    (``"apply"`` forwards it, ``"ignore"`` drops it silently, ``"reject"`` answers 400;
    see :class:`~segmind_gemini.testing._replies.GatewayBehaviour`). Each is also an
    attribute that may be changed while running.

        tools: ``tools`` and ``toolConfig``.
        generation_config: ``generationConfig``.
        safety_settings: ``safetySettings``.
        thinking: ``generationConfig.thinkingConfig``.
        bearer_auth: accept ``Authorization: Bearer <key>`` besides ``x-api-key``.
        queue_mode: serve the ``/v2`` queue routes (else they answer 404).
        allow_any_model: answer for any slug; by default a slug that is not in
            :data:`segmind_gemini.registry.MODELS` gets 404 ``{"error": ...}``.
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        fault_rate: float = 0.0,
        queue_polls: int = 2,
        cost_per_call: float = 0.0012,
        credits: float = 10.0,
        rate_limit: tuple[int, float] | None = None,
        rate_limit_headers: bool = True,
        tools: FieldPolicy = "apply",
        generation_config: FieldPolicy = "apply",
        safety_settings: FieldPolicy = "apply",
        thinking: FieldPolicy = "apply",
        bearer_auth: bool = True,
        queue_mode: bool = True,
        allow_any_model: bool = False,
        history: int | None = None,
        log: Callable[[str], object] | None = None,
        responder: Responder | None = None,
        verbatim: bool = False,
    ) -> None:
        self.behaviour = GatewayBehaviour(tools, generation_config, safety_settings, thinking)
        self.bearer_auth = bearer_auth
        self.queue_mode = queue_mode
        self.allow_any_model = allow_any_model
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate must be between 0 and 1, got {fault_rate}")
        if queue_polls < 0:
            raise ValueError(f"queue_polls must be >= 0, got {queue_polls}")
        if rate_limit is not None:
            limit, window = rate_limit
            if int(limit) < 1 or not float(window) > 0:
                raise ValueError(
                    f"rate_limit must be (limit >= 1, window_s > 0), got {rate_limit!r}"
                )
            rate_limit = (int(limit), float(window))
        self.rate_limit = rate_limit
        self.rate_limit_headers = rate_limit_headers
        self._windows = RateWindows()
        self._api_key = api_key
        self._server = LoopServer(host, port, self._app)
        self._seed = seed
        self.fault_rate = fault_rate
        self.queue_polls = queue_polls
        self._ledger = Ledger(credits, cost_per_call)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._queue: collections.deque[Scripted] = collections.deque()
        if history is not None and history < 0:
            raise ValueError(f"history must be >= 0 or None, got {history}")
        self._records: collections.deque[RecordedRequest] = collections.deque(maxlen=history)
        self.log = log
        self.responder = responder
        self.verbatim = verbatim
        self._jobs = JobBoard()
        self._response_ids = itertools.count(1)
        self._in_flight = 0
        self._max_in_flight = 0

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> SegmindEmulator:
        """Start serving in a background thread (no-op if running); returns ``self``.

        Raises:
            OSError: the address could not be bound (for example the port is taken).
        """
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice or before ``start``."""
        self._server.stop()

    def __enter__(self) -> SegmindEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.origin if self._server.port is not None else "not started"
        return f"SegmindEmulator({where}, pending={self.pending})"

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=_CLIENT_MAX_SIZE)
        app.router.add_route("*", "/v1/{slug}", self._handle_v1)
        app.router.add_route("*", "/v2/requests/{id}/status", self._handle_status)
        app.router.add_route("*", "/v2/requests/{id}", self._handle_result)
        app.router.add_route("*", "/v2/{slug}", self._handle_submit)
        return app

    # -- addresses and state ---------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if self._server.port is None:
            raise RuntimeError("the emulator is not started; call start() or use `with`")
        return self._server.port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``: where the v2 routes live."""
        return f"http://{self._server.host}:{self.port}"

    @property
    def url(self) -> str:
        """Same as :attr:`origin`."""
        return self.origin

    @property
    def base_url(self) -> str:
        """``{origin}/v1``: what a client takes as ``base_url``."""
        return f"{self.origin}/v1"

    @property
    def api_key(self) -> str:
        """The key the emulator accepts."""
        return self._api_key

    @property
    def credits(self) -> float:
        """Remaining credits (what ``x-remaining-credits`` shows)."""
        return self._ledger.credits

    @credits.setter
    def credits(self, value: float) -> None:
        self._ledger.credits = value

    @property
    def cost_per_call(self) -> float:
        """The ``x-cost`` of a billed answer (may be changed while running)."""
        return self._ledger.cost_per_call

    @cost_per_call.setter
    def cost_per_call(self, value: float) -> None:
        self._ledger.cost_per_call = value

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._records)

    @property
    def last_request(self) -> RecordedRequest | None:
        """The most recent request, or ``None``."""
        with self._lock:
            return self._records[-1] if self._records else None

    @property
    def pending(self) -> int:
        """How many queued replies have not been used yet."""
        with self._lock:
            return len(self._queue)

    @property
    def rate_limited(self) -> int:
        """How many calls were answered 429 by the ``rate_limit`` window."""
        return self._windows.refused

    @property
    def max_in_flight(self) -> int:
        """The most requests the emulator was handling at the same moment."""
        with self._lock:
            return self._max_in_flight

    def clear(self) -> None:
        """Drop queued replies and recorded requests."""
        with self._lock:
            self._queue.clear()
            self._records.clear()

    def reset(self) -> None:
        """:meth:`clear`, and also forget v2 jobs, restore credits and reseed faults.

        Clients in this process also forget the rate limits they learned from this
        emulator, so one test's scripted 429 does not hold back the next.
        """
        if self._server.port is not None:
            forget_rate_limits(self.origin)
        with self._lock:
            self._queue.clear()
            self._records.clear()
            self._rng = random.Random(self._seed)
            self._max_in_flight = 0
        self._jobs.clear()
        self._ledger.restore()
        self._windows.clear()

    def _enqueue(self, item: Scripted) -> None:
        with self._lock:
            self._queue.append(item)

    # -- request handling ------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Any,
    ) -> web.StreamResponse:
        started = time.perf_counter()
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                self._record(request, b"")
                return self._stamp(self._error(413, "Request entity too large"), started)
            self._record(request, body)
            if self.verbatim:
                return await self._verbatim(request)
            try:
                response: web.StreamResponse = await handler(request)
            except web.HTTPNotFound:
                response = self._unauthorized(request) or self._error(
                    404, f"Not found: no route for {request.method} {request.path}"
                )
            if self.log is not None:
                self.log(_log_line(request, len(body), response, started))
            return self._stamp(response, started)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _record(self, request: web.Request, body: bytes) -> None:
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            parsed: Any = json.loads(body) if body else None
        except (UnicodeDecodeError, ValueError, RecursionError):
            parsed = None
        route = request.match_info.route.resource
        slug = request.match_info.get("slug") if route is not None else None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            headers=headers,
            body=body,
            json=parsed,
            model=slug,
            query=dict(request.query),
            received_at=time.time(),
        )
        with self._lock:
            self._records.append(record)

    def _stamp(self, response: web.StreamResponse, started: float) -> web.StreamResponse:
        if not response.prepared:
            for name, value in self._segmind_headers(0.0, started).items():
                response.headers.setdefault(name, value)
        return response

    def _segmind_headers(self, cost: float, started: float) -> dict[str, str]:
        remaining = self._ledger.credits
        return {
            "x-request-id": str(uuid.uuid4()),
            "x-cost": money(cost),
            "x-remaining-credits": money(remaining),
            "x-generation-time": f"{time.perf_counter() - started:.3f}",
        }

    def _error(self, status: int, message: str) -> web.Response:
        return web.Response(
            status=status,
            body=json.dumps({"error": message}).encode(),
            content_type="application/json",
        )

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        key = request.headers.get("x-api-key")
        if key is None and self.bearer_auth:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            key = token.strip() if scheme.lower() == "bearer" else None
        # aiohttp decodes header bytes as UTF-8 with surrogateescape; encode them back the
        # same way so a key with stray bytes is a 401, not a 500.
        if key is not None and secrets.compare_digest(
            key.encode("utf-8", "surrogateescape"), self._api_key.encode()
        ):
            return None
        return self._error(401, _UNAUTHORIZED)

    def _gate(self, request: web.Request, method: str) -> web.Response | None:
        """405, 401 and 406 checks, in the gateway's order."""
        if request.method != method:
            return web.Response(status=405, body=HTML_405, content_type="text/html")
        denied = self._unauthorized(request)
        if denied is not None:
            return denied
        slug = request.match_info.get("slug")
        if slug is not None and not self.allow_any_model and slug not in MODELS:
            return self._error(404, f"Model not found: {slug}")
        if method == "POST":
            ctype = request.content_type
            if ctype != "application/json" and not ctype.endswith("+json"):
                return self._error(406, "Invalid content type")
        return None

    def _over_limit(self, request: web.Request) -> web.Response | None:
        """Segmind's per-key fixed window: count the call, or answer 429."""
        if self.rate_limit is None:
            return None
        limit, window = self.rate_limit
        key = request.headers.get("x-api-key") or request.headers.get("Authorization") or ""
        reset = self._windows.admit(key, limit, window, time.time())
        if reset is None:
            return None
        response = self._error(
            429,
            f"Rate limit exceeded: {limit} requests per {window:g} s for this API key; "
            "retry after x-rate-limit-reset-at-utc",
        )
        if self.rate_limit_headers:
            response.headers["x-rate-limit-reset-at-utc"] = reset.isoformat(timespec="milliseconds")
        return response

    async def _take(self, request: web.Request) -> tuple[Scripted, ReplyContext] | web.Response:
        """Validate the body, then pop the next scripted item (or draw one)."""
        body = await request.read()
        if len(body) > MAX_REQUEST_BYTES:
            return self._error(
                400,
                f"request body is {len(body) / 2**20:.1f} MB; Gemini accepts at most 20 MB "
                "per request (upload larger files instead of sending them inline)",
            )
        try:
            data, summary = parse_request(body)
            screened = self.behaviour.screen(data["messages"])
            if isinstance(screened, Outcome):
                return self._respond(screened, 0.0, time.perf_counter())
            if screened != data["messages"]:
                # What the model sees once the gateway dropped what it ignores.
                _, summary = parse_request(json.dumps({"messages": screened}).encode())
        except UnknownName as exc:
            return self._respond(google_400(str(exc)), 0.0, time.perf_counter())
        except RequestInvalid as exc:
            return self._error(400, str(exc))
        except RecursionError:
            return self._error(400, "request body nests JSON too deeply")
        with self._lock:
            if self._ledger.short():
                return self._error(406, "Insufficient credits")
            if self._queue:
                item = self._queue.popleft()
            elif self.fault_rate and self._rng.random() < self.fault_rate:
                item = fault_script(self._rng.choice(RANDOM_FAULTS), {})
            else:
                item = _DEFAULT
            responder = self.responder
            response_id = f"emulated-{next(self._response_ids):06d}"
        if item is _DEFAULT and responder is not None:
            parts = responder(screened)
            if parts is not None:
                answer = [dict(part) for part in parts]
                item = Scripted("responder", lambda ctx: json_outcome(gemini_body(ctx, answer)))
        return item, ReplyContext(summary, request.match_info["slug"], response_id)

    def _respond(
        self, outcome: Outcome, cost: float, started: float, *, segmind: bool = True
    ) -> web.Response:
        stamp = self._segmind_headers(cost, started) if segmind else {}
        headers: CIMultiDict[str] = CIMultiDict(stamp)
        for name, value in outcome.headers.items():
            headers[name] = value
        headers.setdefault("Content-Type", outcome.content_type)
        return web.Response(status=outcome.status, body=outcome.body, headers=headers)

    async def _exchange(
        self, request: web.Request, item: Scripted, outcome: Outcome, started: float
    ) -> web.StreamResponse:
        """Send ``outcome`` the way ``item`` says: whole, cut short, or not at all."""
        if item.delay:
            await asyncio.sleep(item.delay)
        transport = request.transport
        if item.action == "reset":
            if transport is not None:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    # Linger 0 turns the close into a TCP RST, as a crashed proxy would.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
            return web.Response()
        verbatim = self.verbatim
        cost = self._ledger.charge() if outcome.ok and not verbatim else 0.0
        response = self._respond(outcome, cost, started, segmind=not verbatim)
        if item.action == "drip":
            # Headers at once, then the body in ten pieces, 0.2 s apart.
            stream = web.StreamResponse(status=outcome.status, headers=response.headers)
            stream.content_length = len(outcome.body)
            await stream.prepare(request)
            step = max(1, len(outcome.body) // 10)
            for start in range(0, len(outcome.body), step):
                await stream.write(outcome.body[start : start + step])
                await asyncio.sleep(0.2)
            await stream.write_eof()
            return stream
        if item.action == "truncated":
            stream = web.StreamResponse(status=outcome.status, headers=response.headers)
            stream.content_length = len(outcome.body)
            await stream.prepare(request)
            await stream.write(outcome.body[: len(outcome.body) // 2])
            if transport is not None:
                transport.close()
            return stream
        return response

    async def _verbatim(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        with self._lock:
            item = self._queue.popleft() if self._queue else None
            response_id = f"emulated-{next(self._response_ids):06d}"
        if item is None:
            return self._error(599, f"nothing queued for {request.method} {request.path}")
        ctx = ReplyContext(RequestSummary(), request.match_info.get("slug") or "", response_id)
        return await self._exchange(request, item, item.build(ctx), started)

    async def _handle_v1(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        refused = self._gate(request, "POST") or self._over_limit(request)
        if refused is not None:
            return refused
        taken = await self._take(request)
        if isinstance(taken, web.Response):
            return taken
        item, ctx = taken
        return await self._exchange(request, item, item.build(ctx), started)

    async def _handle_submit(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        refused = self._gate(request, "POST") or self._over_limit(request)
        if not self.queue_mode:
            raise web.HTTPNotFound
        refused = self._gate(request, "POST")
        if refused is not None:
            return refused
        taken = await self._take(request)
        if isinstance(taken, web.Response):
            return taken
        item, ctx = taken
        outcome = item.build(ctx)
        if item.exchange:
            return await self._exchange(request, item, outcome, started)
        job_id = self._jobs.submit(outcome, item.delay)
        body = {
            "request_id": job_id,
            "status_url": f"{self.origin}/v2/requests/{job_id}/status",
            "response_url": f"{self.origin}/v2/requests/{job_id}",
        }
        return self._respond(json_outcome(body), 0.0, started)

    def _poll(self, request: web.Request) -> tuple[Job, str] | web.Response:
        """Count a poll of a job and return it with its state."""
        if not self.queue_mode:
            raise web.HTTPNotFound
        refused = self._gate(request, "GET")
        if refused is not None:
            return refused
        job_id = request.match_info["id"]
        polled = self._jobs.poll(job_id, self.queue_polls)
        if polled is None:
            return self._error(404, f"No request found with id {job_id}")
        return polled

    def _failed(self, job: Job, started: float) -> web.Response:
        body = {"status": "FAILED", "error": job.outcome.error_message()}
        return self._respond(json_outcome(body, status=422), 0.0, started)

    async def _handle_status(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        polled = self._poll(request)
        if isinstance(polled, web.Response):
            return polled
        job, state = polled
        if state == "FAILED":
            return self._failed(job, started)
        return self._respond(json_outcome({"status": state}), 0.0, started)

    async def _handle_result(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        polled = self._poll(request)
        if isinstance(polled, web.Response):
            return polled
        job, state = polled
        if state == "FAILED":
            return self._failed(job, started)
        if state != "COMPLETED":
            return self._respond(json_outcome({"status": state}), 0.0, started)
        cost = self._ledger.charge() if self._jobs.first_fetch(job) else 0.0
        body = {
            "status": "COMPLETED",
            "metrics": {"generation_time": round(job.completed_after or 0.0, 3)},
            "output": job.outcome.body.decode("utf-8", "replace"),
        }
        return self._respond(json_outcome(body), cost, started)


def run_forever(
    port: int,
    host: str = "127.0.0.1",
    api_key: str = DEFAULT_API_KEY,
    *,
    seed: int | None = None,
    fault_rate: float = 0.0,
    queue_polls: int = 2,
    rate_limit: tuple[int, float] | None = None,
    script: str | os.PathLike[str] | None = None,
    verbose: bool = False,
    history: int | None = SERVE_HISTORY,
    **behaviour: Any,
) -> None:
    """Serve the emulator until Ctrl-C (or SIGTERM); prints the base URL and key first.

    ``behaviour``: the gateway switches of :class:`SegmindEmulator` (``tools=``,
    ``allow_any_model=``, ...). ``script``: a JSON Lines file of answers to queue first
    (:meth:`SegmindEmulator.queue_script`); a bad line raises before the server starts.
    ``verbose``: print one line per request (and so per 429) to stdout. ``history``: how
    many recent requests to keep (bounded, so a long run does not grow without end).
    """

    def _print(line: str) -> None:
        print(f"{datetime.now().strftime('%H:%M:%S')} {line}", flush=True)

    emulator = SegmindEmulator(
        api_key=api_key,
        host=host,
        port=port,
        seed=seed,
        fault_rate=fault_rate,
        queue_polls=queue_polls,
        rate_limit=rate_limit,
        history=history,
        log=_print if verbose else None,
        **behaviour,
    )

    scripted = emulator.queue_script(script) if script is not None else 0

    def _interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    with emulator:
        print(
            "Segmind API emulator (not a model: its answers are emulated)\n"
            f"  base URL: {emulator.base_url}\n"
            f"  API key:  {emulator.api_key}\n"
            f"  export SEGMIND_BASE_URL={emulator.base_url} SEGMIND_API_KEY={emulator.api_key}\n"
            + (
                f"  rate limit: {rate_limit[0]} requests per {rate_limit[1]:g} s per key\n"
                if rate_limit
                else ""
            )
            + (
                f"  {scripted} scripted answers queued from {os.fspath(script)}; "
                "then unscripted answers\n"
                if script is not None
                else ""
            )
            + "Press Ctrl-C to stop.",
            flush=True,
        )
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
