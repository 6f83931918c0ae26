"""``SegmindGeminiClient``: send a Gemini request to Segmind, sync or async.

>>> from segmind_gemini import SegmindGeminiClient
>>> with SegmindGeminiClient(model="gemini-2.5-flash") as client:
...     result = client.generate_content(
...         {"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]}
...     )
...     print(result.text, result.usage.total_tokens, result.headers.cost)

The retry and queue logic is written once, as generators that yield what to do
next (send this, sleep that long); a sync and an async driver carry them out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from segmind_gemini._version import __version__
from segmind_gemini.client.outcomes import Reply, Report, Verdict, classify, decode
from segmind_gemini.client.retries import RetryPolicy
from segmind_gemini.client.transport import (
    AsyncTransport,
    MaskedHeaders,
    RawResponse,
    SyncTransport,
    Timeouts,
)
from segmind_gemini.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InvalidRequestError,
    QueueJobFailedError,
    RateLimitError,
    ResponseParseError,
    SegmindError,
    UnprocessableEntityError,
)
from segmind_gemini.governor import RateLimitStatus, Ticket, Turn, governor_for
from segmind_gemini.registry import warn_if_retired
from segmind_gemini.settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RATE_LIMIT_WAIT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT,
    SecretLike,
    as_secret,
    check_count,
    check_seconds,
    resolve_base_url,
    resolve_requests_per_minute,
    resolve_secret,
)
from segmind_gemini.wire.encoding import EncodedBody, encode_json_body
from segmind_gemini.wire.request import validate_request
from segmind_gemini.wire.response import (
    GenerateContentResult,
    SegmindHeaders,
    parse_response,
    unreadable,
)

__all__ = ["ApiMode", "SegmindGeminiClient"]

logger = logging.getLogger("segmind_gemini")

ApiMode = Literal["sync", "queue"]
T = TypeVar("T")


@dataclass(slots=True)
class _Send:
    method: str
    url: str
    body: EncodedBody | None
    timeout: float | None


@dataclass(slots=True)
class _Sleep:
    seconds: float


class _Budget:
    """What one call may still spend waiting for turns, and its overall deadline.

    Time spent waiting for a turn under a rate limit is not the call's: it moves the
    deadline (queue mode) and comes out of ``max_rate_limit_wait`` instead.
    """

    __slots__ = ("deadline", "wait_left")

    def __init__(self, wait_left: float, deadline: float | None) -> None:
        self.wait_left = wait_left
        self.deadline = deadline

    def waited(self, seconds: float) -> None:
        self.wait_left -= seconds
        if self.deadline is not None:
            self.deadline += seconds


@dataclass(slots=True)
class _Admit:
    """Wait for a turn from the rate governor (``counted``: it uses the account's quota)."""

    counted: bool
    front: bool
    budget: _Budget
    model: str


@dataclass(slots=True)
class _Record:
    """Tell the rate governor how the attempt admitted with ``ticket`` ended."""

    ticket: Ticket
    report: Report


@dataclass(slots=True)
class _NextTurn:
    """Ask the rate governor how far away the next turn is (seconds)."""

    counted: bool
    model: str


class Clock:
    """The time as the client's flows see it; the drivers hand it in (a test may fake it)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


# The steps and outcomes are plain slotted dataclasses, never changed once made: frozen
# ones cost ~0.7 us more each to build, and a call builds about eight.
_Step = _Send | _Sleep | _Admit | _Record | _NextTurn
_Outcome = RawResponse | APIConnectionError | Ticket | float | None
_Flow = Generator[_Step, _Outcome, T]


class SegmindGeminiClient:
    """A client for Segmind's Gemini endpoints, sync and async in one object.

    Args:
        api_key: Segmind key; defaults to ``$SEGMIND_API_KEY``. Sent as ``x-api-key``;
            never shown in a repr, log line or exception.
        model: the default slug, e.g. ``"gemini-2.5-flash"``.
        base_url: defaults to ``$SEGMIND_BASE_URL`` or ``https://api.segmind.com/v1``.
        timeout: seconds allowed for one call (in queue mode: submit, polling and fetch together).
        connect_timeout: seconds allowed to open a connection.
        max_retries: retries on 429, 5xx, connection errors, timeouts and cut bodies.
        api_mode: ``"sync"`` posts to ``/v1/<slug>`` and waits; ``"queue"`` uses Segmind's
            ``/v2`` submit / poll / fetch flow, recommended for calls over ~10 s.
        max_connections: connection pool size for each of the sync and async paths.
        poll_interval, max_poll_interval: queue polling starts fast and backs off to this.
        retry_policy: full control over backoff (overrides ``max_retries``).
        default_headers: extra headers on every request.
        requests_per_minute: your plan's limit (5 free, 50 Pro); defaults to
            ``$SEGMIND_REQUESTS_PER_MINUTE``. Calls are paced from the first one: at most
            that many in any ``rate_limit_window`` seconds. Unset, the pace is learned
            from the server's 429 answers.
        max_rate_limit_wait: the longest a call waits for its turn, in seconds; a turn or
            a server reset further away raises :class:`RateLimitError` at once, with
            ``retry_after``. Waiting uses no retries and no part of ``timeout``.
        rate_limit_window: the seconds ``requests_per_minute`` counts over (60; set it
            to match a test server with other windows).
        rate_limit_store: where the rate state is shared: ``"machine"`` (every process
            of this user here; the default), ``"process"``, ``"sqlite:///PATH"`` or
            ``"redis://HOST:PORT/DB"`` (``[redis]`` extra); defaults to
            ``$SEGMIND_RATE_LIMIT_STORE``.

    Every client with the same key, origin and store shares one process-wide rate
    governor (see :meth:`rate_limit_status`), across threads and event loops, and
    through the store with other processes.

    Use as a context manager, or call :meth:`close` / :meth:`aclose` when done.
    """

    def __init__(
        self,
        api_key: str | SecretLike | None = None,
        *,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        api_mode: ApiMode = "sync",
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        poll_interval: float = 0.25,
        max_poll_interval: float = 4.0,
        retry_policy: RetryPolicy | None = None,
        default_headers: Mapping[str, str] | None = None,
        requests_per_minute: int | None = None,
        max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT,
        rate_limit_window: float = 60.0,
        rate_limit_store: str | None = None,
    ) -> None:
        # First, so that no frame of a failing constructor holds the key as plain text.
        key = as_secret(api_key)
        del api_key
        self._key = resolve_secret(key)
        if api_mode not in ("sync", "queue"):
            raise InvalidRequestError(f"api_mode must be 'sync' or 'queue', got {api_mode!r}")
        self.timeout = check_seconds("timeout", timeout)
        connect_timeout = check_seconds("connect_timeout", connect_timeout)
        self.requests_per_minute = resolve_requests_per_minute(requests_per_minute)
        self.max_rate_limit_wait = check_seconds(
            "max_rate_limit_wait", max_rate_limit_wait, allow_zero=True
        )
        self.rate_limit_window = check_seconds("rate_limit_window", rate_limit_window)
        self.retry_policy = retry_policy or RetryPolicy(
            max_retries=check_count("max_retries", max_retries)
        )
        self.poll_interval = check_seconds("poll_interval", poll_interval)
        self.max_poll_interval = check_seconds("max_poll_interval", max_poll_interval)
        max_connections = check_count("max_connections", max_connections, minimum=1)
        self.model = _check_slug(model)
        warn_if_retired(self.model)
        self.base_url = resolve_base_url(base_url)
        self.api_mode: ApiMode = api_mode
        parts = urlsplit(self.base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path[:-3] if parts.path.endswith("/v1") else parts.path
        self._queue_base = f"{self._origin}{path}/v2"
        self._governor = governor_for(self._key.get_secret_value(), self._origin, rate_limit_store)
        self._headers = MaskedHeaders(
            {
                "x-api-key": self._key.get_secret_value(),
                "content-type": "application/json",
                "accept": "application/json",
                "user-agent": f"segmind-gemini/{__version__}",
                **_user_headers(default_headers),
            }
        )
        timeouts = Timeouts(total=self.timeout, connect=min(connect_timeout, self.timeout))
        self._clock = Clock()
        self._sync = SyncTransport(timeouts, max_connections)
        self._async = AsyncTransport(timeouts, max_connections)

    @property
    def max_retries(self) -> int:
        return self.retry_policy.max_retries

    def __repr__(self) -> str:
        return (
            f"SegmindGeminiClient(model={self.model!r}, base_url={self.base_url!r}, "
            f"api_mode={self.api_mode!r}, timeout={self.timeout}, max_retries={self.max_retries})"
        )

    # ----------------------------------------------------------------- public calls

    def generate_content(
        self,
        request: Mapping[str, Any],
        *,
        model: str | None = None,
        api_mode: ApiMode | None = None,
        timeout: float | None = None,
    ) -> GenerateContentResult:
        """Send one Gemini request and wait for the answer.

        Raises:
            InvalidRequestError: the request is malformed (nothing was sent).
            ContentBlockedError: Gemini blocked the prompt.
            APIStatusError: a subclass per HTTP status, after retries where allowed.
            APIConnectionError, APITimeoutError: no usable answer, after retries.
        """
        return self._drive_sync(self._flow(request, model, api_mode, timeout, self._clock))

    async def agenerate_content(
        self,
        request: Mapping[str, Any],
        *,
        model: str | None = None,
        api_mode: ApiMode | None = None,
        timeout: float | None = None,
    ) -> GenerateContentResult:
        """The async form of :meth:`generate_content`; works from any event loop."""
        return await self._drive_async(self._flow(request, model, api_mode, timeout, self._clock))

    def post_raw(
        self, request: Mapping[str, Any], *, model: str | None = None, bearer: bool = False
    ) -> tuple[int, dict[str, str], Any]:
        """POST ``request`` unchecked, through the same rate governor and retries.

        For ``segmind-gemini check``'s probes of what :meth:`generate_content` refuses
        to send (an empty parts list) or of ``Authorization: Bearer`` instead of
        ``x-api-key``. Returns ``(status, headers, decoded body)``, the key masked in
        the body; an HTTP error is returned (headers empty), not raised.
        """
        slug = _check_slug(model) if model else self.model
        send = _Send("POST", f"{self.base_url}/{slug}", encode_json_body(request), None)
        headers = self._headers
        if bearer:
            headers = MaskedHeaders({k: v for k, v in headers.items() if k != "x-api-key"})
            headers["authorization"] = f"Bearer {self._key.get_secret_value()}"
        waits = _Budget(self.max_rate_limit_wait, None)
        flow = self._with_retries(send, slug, waits, self._clock)
        try:
            reply = self._drive_sync(flow, headers)
        except APIStatusError as exc:
            return exc.status_code or 0, {}, exc.body
        return reply.raw.status, dict(reply.raw.headers), reply.json

    def rate_limit_status(self) -> RateLimitStatus:
        """What the rate governor shared by this key and origin knows and is doing.

        >>> status = client.rate_limit_status()
        >>> status.waiting, status.rate_limited, status.learned_limit, status.learned_window
        (0, 0, None, None)
        """
        return self._governor.status(self.requests_per_minute)

    # ------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the sync pool (and async sessions whose loops have ended).

        Closing releases connections only: a later call opens new ones.
        """
        self._sync.close()
        self._async.close_sync()

    async def aclose(self) -> None:
        """Close the async session of the running loop and the sync pool (reopened on use)."""
        await self._async.aclose()
        self._sync.close()

    def __enter__(self) -> SegmindGeminiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> SegmindGeminiClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --------------------------------------------------------------------- drivers

    def _drive_sync(self, flow: _Flow[T], headers: Mapping[str, str] | None = None) -> T:
        outcome: _Outcome = None
        ticket: Ticket | None = None
        try:
            while True:
                step = flow.send(outcome)
                if isinstance(step, _Send):
                    try:
                        outcome = self._sync.send(
                            step.method, step.url, headers or self._headers, step.body, step.timeout
                        )
                    except APIConnectionError as exc:
                        outcome = exc
                elif isinstance(step, _Admit):
                    started = self._clock.monotonic()
                    ticket = outcome = self._governor.acquire(
                        self._turn(step), max_wait=max(step.budget.wait_left, 0.0), front=step.front
                    )
                    if ticket.queued:
                        step.budget.waited(self._clock.monotonic() - started)
                elif isinstance(step, _Sleep):
                    time.sleep(step.seconds)
                    outcome = None
                else:
                    outcome = self._govern(step)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()
            self._hand_back(ticket)

    async def _drive_async(self, flow: _Flow[T]) -> T:
        outcome: _Outcome = None
        ticket: Ticket | None = None
        try:
            while True:
                step = flow.send(outcome)
                if isinstance(step, _Send):
                    try:
                        outcome = await self._async.send(
                            step.method, step.url, self._headers, step.body, step.timeout
                        )
                    except APIConnectionError as exc:
                        outcome = exc
                elif isinstance(step, _Admit):
                    started = self._clock.monotonic()
                    ticket = outcome = await self._governor.acquire_async(
                        self._turn(step), max_wait=max(step.budget.wait_left, 0.0), front=step.front
                    )
                    if ticket.queued:
                        step.budget.waited(self._clock.monotonic() - started)
                elif isinstance(step, _Sleep):
                    await asyncio.sleep(step.seconds)
                    outcome = None
                else:
                    outcome = self._govern(step)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()
            self._hand_back(ticket)

    def _govern(self, step: _Record | _NextTurn) -> float | None:
        """Carry out a flow's message to the rate governor."""
        if isinstance(step, _Record):
            report = step.report
            self._governor.record(
                step.ticket,
                report.status,
                report.retry_after,
                exact=report.exact,
                upstream=report.upstream,
            )
            return None
        turn = Turn(step.counted, self.requests_per_minute, self.rate_limit_window, step.model)
        return self._governor.next_turn_in(turn)

    def _hand_back(self, ticket: Ticket | None) -> None:
        """Return a turn taken but never reported (the call was interrupted mid-send)."""
        if ticket is not None:  # recording a reported ticket again does nothing
            self._governor.record(ticket, None)

    def _turn(self, step: _Admit) -> Turn:
        return Turn(step.counted, self.requests_per_minute, self.rate_limit_window, step.model)

    # ----------------------------------------------------------------------- flows

    def _flow(
        self,
        request: Mapping[str, Any],
        model: str | None,
        api_mode: ApiMode | None,
        timeout: float | None,
        clock: Clock,
    ) -> _Flow[GenerateContentResult]:
        validate_request(request)
        slug = _check_slug(model) if model else self.model
        body = encode_json_body(request)
        mode = api_mode or self.api_mode
        budget = check_seconds("timeout", timeout) if timeout is not None else self.timeout
        if mode == "queue":
            return self._queue_flow(slug, body, budget, clock)
        if mode != "sync":
            raise InvalidRequestError(f"api_mode must be 'sync' or 'queue', got {mode!r}")
        return self._v1_flow(slug, body, None if timeout is None else budget, clock)

    def _v1_flow(
        self, slug: str, body: EncodedBody, timeout: float | None, clock: Clock
    ) -> _Flow[GenerateContentResult]:
        waits = _Budget(self.max_rate_limit_wait, None)
        reply = yield from self._with_retries(
            _Send("POST", f"{self.base_url}/{slug}", body, timeout), slug, waits, clock
        )
        return _parse(reply.json, reply.raw.headers, reply.raw.status)

    def _queue_flow(
        self, slug: str, body: EncodedBody, budget: float, clock: Clock
    ) -> _Flow[GenerateContentResult]:
        waits = _Budget(self.max_rate_limit_wait, clock.monotonic() + budget)

        def remaining() -> float:
            assert waits.deadline is not None
            left = waits.deadline - clock.monotonic()
            # A few milliseconds cannot carry a request: the budget is spent.
            if left <= 0.01:
                raise APITimeoutError(
                    f"Queued request for {slug!r} did not finish within {budget:g} s "
                    "(Segmind keeps results for one hour)"
                )
            return left

        def attempt(method: str, url: str, data: EncodedBody | None) -> _Flow[Reply]:
            return self._with_retries(_Send(method, url, data, remaining()), slug, waits, clock)

        submitted = yield from attempt("POST", f"{self._queue_base}/{slug}", body)
        job = submitted.json if isinstance(submitted.json, Mapping) else {}
        status_url = self._own_url(job.get("status_url"), "status_url", submitted)
        response_url = self._own_url(job.get("response_url"), "response_url", submitted)
        job_id = job.get("request_id")
        delay = self.poll_interval
        while True:
            yield _Sleep(min(delay, remaining()))
            delay = min(delay * 1.6, self.max_poll_interval)
            try:
                polled = yield from attempt("GET", status_url, None)
            except UnprocessableEntityError as exc:
                raise _job_failed(exc.body, exc.status_code, job_id) from exc
            state = polled.json.get("status") if isinstance(polled.json, Mapping) else None
            logger.debug("queued job %s is %s", job_id, state)
            if state == "FAILED":
                raise _job_failed(polled.json, polled.raw.status, job_id)
            if state == "COMPLETED":
                break
        fetched = yield from attempt("GET", response_url, None)
        return self._queued_result(fetched, job_id)

    def _queued_result(self, fetched: Reply, job_id: Any) -> GenerateContentResult:
        envelope = fetched.json if isinstance(fetched.json, Mapping) else {}
        if envelope.get("status") == "FAILED":
            raise _job_failed(envelope, fetched.raw.status, job_id)
        output = envelope.get("output")
        if isinstance(output, str):
            output = decode(output.encode("utf-8"), self._key)
        if output is None:
            raise ResponseParseError(
                f"Queued job {job_id} completed without an 'output'",
                body=envelope,
                request_id=job_id,
            )
        headers = dict(fetched.raw.headers)
        headers.setdefault("x-request-id", str(job_id))
        return _parse(output, headers, fetched.raw.status)

    def _own_url(self, url: Any, name: str, reply: Reply) -> str:
        """The key goes only to the host it was configured for."""
        if not isinstance(url, str) or not url:
            raise ResponseParseError(
                f"The queue submit answer has no {name}",
                body=reply.json,
                request_id=reply.raw.headers.get("x-request-id"),
            )
        parts = urlsplit(url)
        if _origin_of(url) != _origin_of(self._origin):
            raise SegmindError(
                f"Refusing to poll {parts.scheme}://{parts.netloc}: the queue answered with a "
                f"{name} outside {self._origin}, and the API key must not be sent there"
            )
        return url

    def _with_retries(self, send: _Send, slug: str, waits: _Budget, clock: Clock) -> _Flow[Reply]:
        """Send until the answer is usable.

        Every attempt first waits for a turn from the rate governor. What an outcome
        means is decided by :func:`~segmind_gemini.client.outcomes.classify`; this loop only
        carries it out. A 429 is not a retry: the call goes back to the head of the
        line, bounded by ``max_rate_limit_wait``. Other failures retry per
        :attr:`retry_policy`, within the call's deadline (queue mode).
        """
        attempt = 0
        front = False
        counted = send.method == "POST"
        while True:
            ticket = yield _Admit(counted, front, waits, slug)
            assert isinstance(ticket, Ticket)
            if waits.deadline is not None:
                send = replace(send, timeout=max(waits.deadline - clock.monotonic(), 0.001))
            outcome = yield send
            assert isinstance(outcome, (RawResponse, APIConnectionError))
            verdict = classify(
                outcome, method=send.method, url=send.url, model=slug, key=self._key, now=clock.now
            )
            yield _Record(ticket, verdict.report)
            if verdict.reply is not None:
                _log(send, outcome, "")
                return verdict.reply
            error = verdict.error
            assert error is not None
            if verdict.next == "wait_turn":
                turn = yield _NextTurn(counted, slug)
                assert isinstance(turn, float)
                _give_up_if_too_far(error, verdict.hint, turn, waits, send, outcome)
                _log(send, outcome, "; rate limited, waiting for a turn")
                front = True
                continue
            wait = self._retry_wait(verdict, attempt, waits, clock)
            if wait is None:
                _log(send, outcome, f"; giving up: {_why(error)}")
                raise error
            hint = verdict.hint
            _log(
                send,
                outcome,
                f"; retry {attempt + 1}/{self.retry_policy.max_retries} in {wait:.2f}s "
                f"({_why(error)}{'' if hint is None else f', server asked {hint:.1f}s'})",
            )
            yield _Sleep(wait)
            attempt += 1

    def _retry_wait(
        self, verdict: Verdict, attempt: int, waits: _Budget, clock: Clock
    ) -> float | None:
        """Seconds before the next attempt, or ``None`` when the call must fail now."""
        policy = self.retry_policy
        if verdict.next != "retry" or attempt >= policy.max_retries:
            return None
        wait = policy.wait_for(attempt, verdict.hint)
        deadline = waits.deadline
        if wait is not None and deadline is not None and clock.monotonic() + wait >= deadline:
            return None  # no time left in the call's budget for another attempt
        return wait


def _give_up_if_too_far(
    error: SegmindError,
    hint: float | None,
    turn: float,
    waits: _Budget,
    send: _Send,
    outcome: _Outcome,
) -> None:
    """Raise the server's 429 when the next turn is beyond what the call may wait for.

    Too far away (a daily quota, or ``max_rate_limit_wait`` spent): the error says when
    to come back.
    """
    if max(turn, hint or 0.0) <= waits.wait_left:
        return
    assert isinstance(error, RateLimitError)
    if hint is None or turn > hint + 1.0:
        error.retry_after = turn
    _log(send, outcome, f"; giving up: next turn in {turn:.1f}s")
    raise error


def _parse(body: Any, headers: Mapping[str, str], status: int) -> GenerateContentResult:
    try:
        return parse_response(body, headers, status=status)
    except SegmindError:
        raise
    except Exception as exc:
        # parse_response reads only checked fields, so this is a bug in it; the
        # caller still gets the library's error, with the body to report it.
        seg = SegmindHeaders.from_headers(headers)
        raise unreadable(
            f"Could not read the answer ({type(exc).__name__}: {exc})", body, status, seg
        ) from None


def _origin_of(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port, compared case-blind and with default ports filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return scheme, "", -1  # an invalid port matches no origin
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def _check_slug(model: str) -> str:
    if not isinstance(model, str) or not model.strip() or "/" in model or " " in model.strip():
        raise InvalidRequestError(
            f"model must be a Segmind slug such as 'gemini-2.5-flash', got {model!r}"
        )
    return model.strip()


def _job_failed(body: Any, status: int | None, job_id: Any) -> QueueJobFailedError:
    message = "queued job failed"
    if isinstance(body, Mapping) and body.get("error"):
        err = body["error"]
        message = str(err.get("message") if isinstance(err, Mapping) else err)
    return QueueJobFailedError(
        f"Queued job {job_id} FAILED: {message}",
        status_code=status if status and status >= 400 else 422,
        body=body,
        request_id=str(job_id) if job_id else None,
    )


def _why(error: SegmindError) -> str:
    if isinstance(error, RateLimitError):
        return "rate limited"
    if isinstance(error, APIStatusError):
        return f"HTTP {error.status_code}"
    return type(error).__name__


def _log(send: _Send, outcome: _Outcome, note: str) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    if isinstance(outcome, RawResponse):
        logger.debug(
            "%s %s -> %d in %.3fs%s", send.method, send.url, outcome.status, outcome.elapsed, note
        )
    else:
        logger.debug("%s %s -> %s%s", send.method, send.url, type(outcome).__name__, note)


def _user_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """``default_headers`` by lower-case name, so that ``User-Agent`` replaces the
    client's own instead of going beside it (a strict server refuses the pair)."""
    out = {name.lower(): value for name, value in (headers or {}).items()}
    if "x-api-key" in out:
        raise InvalidRequestError(
            "default_headers may not set x-api-key: pass the key as api_key=... "
            "(it is masked everywhere the package shows it)"
        )
    return out
