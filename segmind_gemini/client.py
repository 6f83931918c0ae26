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
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from ._version import __version__
from .encoding import EncodedBody, encode_json_body
from .errors import (
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
from .governor import RateLimitStatus, Ticket, Turn, governor_for
from .registry import warn_if_retired
from .request import validate_request
from .response import (
    GenerateContentResult,
    SegmindHeaders,
    body_excerpt,
    parse_response,
    unreadable,
)
from .retries import RETRY_STATUSES, RetryPolicy, server_retry_hint
from .settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RATE_LIMIT_WAIT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT,
    resolve_api_key,
    resolve_base_url,
    resolve_requests_per_minute,
)
from .status_errors import MAX_JSON_DEPTH, TooDeep, decode_body, error_for_status
from .transport import AsyncTransport, RawResponse, SyncTransport, Timeouts

__all__ = ["ApiMode", "SegmindGeminiClient"]

logger = logging.getLogger("segmind_gemini")

ApiMode = Literal["sync", "queue"]
T = TypeVar("T")


@dataclass(frozen=True)
class _Send:
    method: str
    url: str
    body: EncodedBody | None
    timeout: float | None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class _Admit:
    """Wait for a turn from the rate governor (``counted``: it uses the account's quota)."""

    counted: bool
    front: bool
    budget: _Budget
    model: str


@dataclass(frozen=True)
class _Reply:
    raw: RawResponse
    json: Any


_Step = _Send | _Sleep | _Admit
_Outcome = RawResponse | APIConnectionError | Ticket | None
_Flow = Generator[_Step, _Outcome, T]


class _Secret:
    """Holds the key so that no repr, str or vars() dump can show it."""

    __slots__ = ("_bytes", "_value")

    def __init__(self, value: str) -> None:
        self._value = value
        self._bytes = value.encode("utf-8", "surrogatepass")

    def get(self) -> str:
        return self._value

    def get_bytes(self) -> bytes:
        """The key as UTF-8, to look for it in raw bodies."""
        return self._bytes

    def __repr__(self) -> str:
        return "'**********'"

    __str__ = __repr__


class _Headers(dict[str, str]):
    """Request headers kept on the client; their repr masks the credentials.

    They sit in ``vars(client)``, so a debugging dump of the client must not show the key.
    """

    _HIDDEN = frozenset({"x-api-key", "authorization"})

    def __repr__(self) -> str:
        shown = {k: "**********" if k.lower() in self._HIDDEN else v for k, v in self.items()}
        return repr(shown)

    __str__ = __repr__


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

    Every client with the same key and origin shares one process-wide rate governor
    (see :meth:`rate_limit_status`), across threads and event loops.

    Use as a context manager, or call :meth:`close` / :meth:`aclose` when done.
    """

    def __init__(
        self,
        api_key: str | None = None,
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
    ) -> None:
        if api_mode not in ("sync", "queue"):
            raise InvalidRequestError(f"api_mode must be 'sync' or 'queue', got {api_mode!r}")
        if timeout <= 0 or connect_timeout <= 0:
            raise InvalidRequestError("timeout and connect_timeout must be positive seconds")
        if max_retries < 0:
            raise InvalidRequestError("max_retries must be 0 or more")
        if not max_rate_limit_wait >= 0:
            raise InvalidRequestError(
                f"max_rate_limit_wait must be 0 or more seconds, got {max_rate_limit_wait!r}"
            )
        if not rate_limit_window > 0:
            raise InvalidRequestError(
                f"rate_limit_window must be positive seconds, got {rate_limit_window!r}"
            )
        self.requests_per_minute = resolve_requests_per_minute(requests_per_minute)
        self.max_rate_limit_wait = float(max_rate_limit_wait)
        self.rate_limit_window = float(rate_limit_window)
        self._key = _Secret(resolve_api_key(api_key))
        self.model = _check_slug(model)
        warn_if_retired(self.model)
        self.base_url = resolve_base_url(base_url)
        self.timeout = float(timeout)
        self.api_mode: ApiMode = api_mode
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        parts = urlsplit(self.base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        path = parts.path[:-3] if parts.path.endswith("/v1") else parts.path
        self._queue_base = f"{self._origin}{path}/v2"
        self._governor = governor_for(self._key.get(), self._origin)
        self._headers = _Headers(
            {
                "x-api-key": self._key.get(),
                "content-type": "application/json",
                "accept": "application/json",
                "user-agent": f"segmind-gemini/{__version__}",
                **(default_headers or {}),
            }
        )
        timeouts = Timeouts(total=self.timeout, connect=min(connect_timeout, self.timeout))
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
        return self._drive_sync(self._flow(request, model, api_mode, timeout))

    async def agenerate_content(
        self,
        request: Mapping[str, Any],
        *,
        model: str | None = None,
        api_mode: ApiMode | None = None,
        timeout: float | None = None,
    ) -> GenerateContentResult:
        """The async form of :meth:`generate_content`; works from any event loop."""
        return await self._drive_async(self._flow(request, model, api_mode, timeout))

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
            headers = _Headers({k: v for k, v in headers.items() if k != "x-api-key"})
            headers["authorization"] = f"Bearer {self._key.get()}"
        flow = self._with_retries(send, slug, _Budget(self.max_rate_limit_wait, None))
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
        try:
            while True:
                step = flow.send(outcome)
                if isinstance(step, _Sleep):
                    time.sleep(step.seconds)
                    outcome = None
                elif isinstance(step, _Admit):
                    started = time.monotonic()
                    outcome = self._governor.acquire(
                        self._turn(step), max_wait=max(step.budget.wait_left, 0.0), front=step.front
                    )
                    if outcome.queued:
                        step.budget.waited(time.monotonic() - started)
                else:
                    try:
                        outcome = self._sync.send(
                            step.method, step.url, headers or self._headers, step.body, step.timeout
                        )
                    except APIConnectionError as exc:
                        outcome = exc
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()  # hands back a turn taken but not reported (interrupted call)

    async def _drive_async(self, flow: _Flow[T]) -> T:
        outcome: _Outcome = None
        try:
            while True:
                step = flow.send(outcome)
                if isinstance(step, _Sleep):
                    await asyncio.sleep(step.seconds)
                    outcome = None
                elif isinstance(step, _Admit):
                    started = time.monotonic()
                    outcome = await self._governor.acquire_async(
                        self._turn(step), max_wait=max(step.budget.wait_left, 0.0), front=step.front
                    )
                    if outcome.queued:
                        step.budget.waited(time.monotonic() - started)
                else:
                    try:
                        outcome = await self._async.send(
                            step.method, step.url, self._headers, step.body, step.timeout
                        )
                    except APIConnectionError as exc:
                        outcome = exc
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()

    def _turn(self, step: _Admit) -> Turn:
        return Turn(step.counted, self.requests_per_minute, self.rate_limit_window, step.model)

    # ----------------------------------------------------------------------- flows

    def _flow(
        self,
        request: Mapping[str, Any],
        model: str | None,
        api_mode: ApiMode | None,
        timeout: float | None,
    ) -> _Flow[GenerateContentResult]:
        validate_request(request)
        slug = _check_slug(model) if model else self.model
        body = encode_json_body(request)
        mode = api_mode or self.api_mode
        budget = float(timeout) if timeout is not None else self.timeout
        if mode == "queue":
            return self._queue_flow(slug, body, budget)
        if mode != "sync":
            raise InvalidRequestError(f"api_mode must be 'sync' or 'queue', got {mode!r}")
        return self._v1_flow(slug, body, None if timeout is None else budget)

    def _v1_flow(
        self, slug: str, body: EncodedBody, timeout: float | None
    ) -> _Flow[GenerateContentResult]:
        waits = _Budget(self.max_rate_limit_wait, None)
        reply = yield from self._with_retries(
            _Send("POST", f"{self.base_url}/{slug}", body, timeout), slug, waits
        )
        return _parse(reply.json, reply.raw.headers, reply.raw.status)

    def _queue_flow(
        self, slug: str, body: EncodedBody, budget: float
    ) -> _Flow[GenerateContentResult]:
        waits = _Budget(self.max_rate_limit_wait, time.monotonic() + budget)

        def remaining() -> float:
            assert waits.deadline is not None
            left = waits.deadline - time.monotonic()
            # A few milliseconds cannot carry a request: the budget is spent.
            if left <= 0.01:
                raise APITimeoutError(
                    f"Queued request for {slug!r} did not finish within {budget:g} s "
                    "(Segmind keeps results for one hour)"
                )
            return left

        submitted = yield from self._with_retries(
            _Send("POST", f"{self._queue_base}/{slug}", body, remaining()), slug, waits
        )
        job = submitted.json if isinstance(submitted.json, Mapping) else {}
        status_url = self._own_url(job.get("status_url"), "status_url", submitted)
        response_url = self._own_url(job.get("response_url"), "response_url", submitted)
        job_id = job.get("request_id")
        delay = self.poll_interval
        while True:
            yield _Sleep(min(delay, remaining()))
            delay = min(delay * 1.6, self.max_poll_interval)
            try:
                polled = yield from self._with_retries(
                    _Send("GET", status_url, None, remaining()), slug, waits
                )
            except UnprocessableEntityError as exc:
                raise _job_failed(exc.body, exc.status_code, job_id) from exc
            state = polled.json.get("status") if isinstance(polled.json, Mapping) else None
            logger.debug("queued job %s is %s", job_id, state)
            if state == "FAILED":
                raise _job_failed(polled.json, polled.raw.status, job_id)
            if state == "COMPLETED":
                break
        fetched = yield from self._with_retries(
            _Send("GET", response_url, None, remaining()), slug, waits
        )
        envelope = fetched.json if isinstance(fetched.json, Mapping) else {}
        if envelope.get("status") == "FAILED":
            raise _job_failed(envelope, fetched.raw.status, job_id)
        output = envelope.get("output")
        if isinstance(output, str):
            output = decode_body(output.encode("utf-8"))
        if output is None:
            raise ResponseParseError(
                f"Queued job {job_id} completed without an 'output'",
                body=envelope,
                request_id=job_id,
            )
        headers = dict(fetched.raw.headers)
        headers.setdefault("x-request-id", str(job_id))
        return _parse(output, headers, fetched.raw.status)

    def _decode(self, content: bytes) -> Any:
        """The decoded body with the key masked wherever the server echoed it.

        Every body, answer or error, passes here first: whatever an error, a
        result or a log line later quotes from it cannot hold the key.
        """
        decoded = decode_body(content)
        # JSON may spell the key with escapes (\u0041, \/): then look in the strings.
        if self._key.get_bytes() in content or b"\\u" in content or b"\\/" in content:
            decoded = _redact(decoded, self._key.get())
        return decoded

    def _own_url(self, url: Any, name: str, reply: _Reply) -> str:
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

    def _with_retries(self, send: _Send, slug: str, waits: _Budget) -> _Flow[_Reply]:
        """Send until the answer is usable.

        Every attempt first waits for a turn from the rate governor. A 429 is not a
        retry: the call goes back to the head of the line, bounded by
        ``max_rate_limit_wait``. Other failures retry per :attr:`retry_policy`, within
        the call's deadline (queue mode).
        """
        policy = self.retry_policy
        attempt = 0
        front = False
        counted = send.method == "POST"
        while True:
            ticket = yield _Admit(counted, front, waits, slug)
            assert isinstance(ticket, Ticket)
            if waits.deadline is not None:
                send = replace(send, timeout=max(waits.deadline - time.monotonic(), 0.001))
            try:
                outcome = yield send
            except GeneratorExit:
                self._governor.record(ticket, None)
                raise
            error: SegmindError
            hint: float | None = None
            if isinstance(outcome, RawResponse):
                decoded = self._decode(outcome.content)
                request_id = outcome.headers.get("x-request-id")
                if outcome.status < 300:
                    self._governor.record(ticket, outcome.status)
                    if isinstance(decoded, (dict, list)):
                        _log(send, outcome, "")
                        return _Reply(outcome, decoded)
                    error, retryable = _unusable_body(send, outcome, decoded, request_id)
                else:
                    hint = server_retry_hint(outcome.headers, decoded)
                    self._governor.record(
                        ticket,
                        outcome.status,
                        hint,
                        # A reset time, not a rounded delay. Google's long quotas (a day's)
                        # are per model; its per-minute ones pace the key like Segmind's.
                        exact="x-rate-limit-reset-at-utc" in outcome.headers,
                        upstream=_is_google_quota(decoded) and (hint or 0.0) > 60.0,
                    )
                    error = error_for_status(
                        outcome.status,
                        decoded,
                        request_id=request_id,
                        model=slug,
                        retry_after=hint,
                    )
                    if outcome.status == 429:
                        turn = self._governor.next_turn_in(
                            Turn(counted, self.requests_per_minute, self.rate_limit_window, slug)
                        )
                        if max(turn, hint or 0.0) > waits.wait_left:
                            # Too far away to wait for (a daily quota, or max_rate_limit_wait
                            # spent): the server's own error, saying when to come back.
                            assert isinstance(error, RateLimitError)
                            if hint is None or turn > hint + 1.0:
                                error.retry_after = turn
                            _log(send, outcome, f"; giving up: next turn in {turn:.1f}s")
                            raise error
                        _log(send, outcome, "; rate limited, waiting for a turn")
                        front = True
                        continue
                    retryable = outcome.status in RETRY_STATUSES
            elif isinstance(outcome, APIConnectionError):
                self._governor.record(ticket, None)
                error, retryable = outcome, True
            else:  # pragma: no cover - the drivers always send an outcome
                raise RuntimeError("transport produced no outcome")
            wait = policy.wait_for(attempt, hint) if retryable else None
            deadline = waits.deadline
            if wait is not None and deadline is not None and time.monotonic() + wait >= deadline:
                wait = None  # no time left in the call's budget for another attempt
            if wait is None or attempt >= policy.max_retries:
                _log(send, outcome, f"; giving up: {_why(error)}")
                raise error
            _log(
                send,
                outcome,
                f"; retry {attempt + 1}/{policy.max_retries} in {wait:.2f}s "
                f"({_why(error)}{'' if hint is None else f', server asked {hint:.1f}s'})",
            )
            yield _Sleep(wait)
            attempt += 1


def _is_google_quota(body: Any) -> bool:
    """A 429 in Google's error shape: an upstream quota of one model, not Segmind's limit."""
    err = body.get("error") if isinstance(body, Mapping) else None
    return isinstance(err, Mapping) and (
        err.get("status") == "RESOURCE_EXHAUSTED" or isinstance(err.get("details"), list)
    )


def _redact(value: Any, secret: str) -> Any:
    """``value`` (a decoded body) with every occurrence of ``secret`` masked."""
    if isinstance(value, str):
        # type(value) keeps a TooDeep marker a TooDeep.
        return type(value)(value.replace(secret, "**********")) if secret in value else value
    if isinstance(value, dict):
        return {_redact(k, secret): _redact(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secret) for v in value]
    return value


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


def _unusable_body(
    send: _Send, outcome: RawResponse, decoded: Any, request_id: str | None
) -> tuple[SegmindError, bool]:
    """The error for a 2xx whose body is not a JSON object or list, and whether to retry."""
    where = f"{send.method} {send.url}"
    if isinstance(decoded, TooDeep):
        # Sending again would be billed again and get the same answer.
        reason = f"{where}: the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"
        seg = SegmindHeaders(request_id=request_id)
        return unreadable(reason, decoded[:_BODY_KEPT], outcome.status, seg), False
    # A 200 whose body is not JSON was cut short or mangled on the way.
    shown = "empty" if decoded is None else f"not JSON (cut short?): {body_excerpt(decoded)}"
    return APIConnectionError(
        f"{where}: the body is {shown}",
        status_code=outcome.status,
        body=decoded[:_BODY_KEPT] if isinstance(decoded, str) else decoded,
        request_id=request_id,
    ), True


# Text bodies kept on errors are cut to this many characters.
_BODY_KEPT = 4096


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
