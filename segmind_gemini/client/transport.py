"""The HTTP layer: send bytes, get status, headers and the whole body back.

Two transports, one contract (:class:`RawResponse`, or an
:class:`~segmind_gemini.errors.APIConnectionError`):

* sync calls use one pooled ``httpx.Client``;
* async calls use one ``aiohttp.ClientSession`` per event loop. On this kind of
  machine 200 concurrent calls held 100 ms each took 4.7 s through
  ``httpx.AsyncClient`` (its pool degrades with many live connections) and
  0.12 s through aiohttp, so aiohttp carries the async path. A session is bound
  to the loop that made it, so a client keeps one per loop: successive
  ``asyncio.run()`` calls on the same client each get a working session.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import threading
import time
import urllib.request
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import httpx

from segmind_gemini.errors import APIConnectionError, APITimeoutError
from segmind_gemini.wire.encoding import EncodedBody

__all__ = ["AsyncTransport", "MaskedHeaders", "RawResponse", "SyncTransport", "Timeouts"]


class MaskedHeaders(dict[str, str]):
    """Request headers whose repr masks the credentials.

    The key travels to the wire in one of these, so a debugger, a traceback's
    frame locals or ``vars(client)`` never shows it.
    """

    _HIDDEN = frozenset({"x-api-key", "authorization"})

    def __repr__(self) -> str:
        shown = {k: "**********" if k.lower() in self._HIDDEN else v for k, v in self.items()}
        return repr(shown)

    __str__ = __repr__

    def with_length(self, length: int) -> MaskedHeaders:
        """A copy with ``content-length`` set (a streamed body is not sent chunked)."""
        headers = MaskedHeaders(self)
        headers["content-length"] = str(length)
        return headers


@dataclass(frozen=True)
class Timeouts:
    """``total`` bounds a whole attempt; ``connect`` bounds opening the connection."""

    total: float
    connect: float


@dataclass(frozen=True)
class RawResponse:
    """A complete HTTP answer. ``headers`` keys are lower-case."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed: float


async def _aiter(body: EncodedBody) -> AsyncIterator[bytes]:
    for piece in body.iter_bytes():
        yield piece


def _masked(headers: Mapping[str, str]) -> MaskedHeaders:
    return headers if isinstance(headers, MaskedHeaders) else MaskedHeaders(headers)


def _lower(items: object) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}  # type: ignore[attr-defined]


def _httpx_headers(headers: httpx.Headers) -> dict[str, str]:
    """Lower-cased headers, repeated ones joined with ``", "`` as httpx does.

    Reads the raw bytes: httpx's own ``items()`` looks up its encoding once per
    header (a few microseconds a call). Non-ASCII values take httpx's decoding.
    """
    out: dict[str, str] = {}
    try:
        for raw_name, raw_value in headers.raw:
            name = raw_name.decode("ascii").lower()
            value = raw_value.decode("ascii")
            out[name] = f"{out[name]}, {value}" if name in out else value
    except UnicodeDecodeError:
        return _lower(headers.items())
    return out


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx.URL:
    """``url`` parsed once: httpx parses a string URL twice a request (~15 us), and a
    client sends to the same few URLs (``base_url/slug``) again and again."""
    return httpx.URL(url)


class _NoCookies(httpx.Cookies):
    """Cookies that store nothing: the API sets none, and httpx's cookie handling costs
    ~50 us a call (it rebuilds every request and response as urllib objects to offer
    them to the jar)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


_NO_COOKIES = _NoCookies()


class _Client(httpx.Client):
    """``httpx.Client`` without cookies."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        return None


# Headers every request of SegmindGeminiClient carries (see its ``_headers``).
_OWN_HEADERS = ("accept", "user-agent")


class SyncTransport:
    """Blocking HTTP over one pooled, thread-safe ``httpx.Client``.

    :meth:`close` releases the pool; the next :meth:`send` opens a new one, so a
    closed client reconnects instead of failing (the rule for every class here).
    """

    def __init__(self, timeouts: Timeouts, max_connections: int) -> None:
        self._timeouts = timeouts
        self._max_connections = max_connections
        self._lock = threading.Lock()
        self._client = self._new_client()
        _LIVE_SYNC.add(self)

    def _new_client(self) -> httpx.Client:
        limit = self._max_connections
        client = _Client(
            timeout=self._httpx_timeout(self._timeouts.total),
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            follow_redirects=False,
        )
        # The client's own requests name these themselves: a default httpx would have
        # to find and replace on every request (~4 us between socket calls).
        for name in _OWN_HEADERS:
            del client.headers[name]
        return client

    def _open_client(self) -> httpx.Client:
        client = self._client
        if client.is_closed:
            with self._lock:
                if self._client.is_closed:
                    self._client = self._new_client()
                client = self._client
        return client

    def _httpx_timeout(self, total: float) -> httpx.Timeout:
        # httpx bounds each phase, not the whole exchange; a read budget equal to
        # the total is the closest it offers.
        return httpx.Timeout(total, connect=min(self._timeouts.connect, total))

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: EncodedBody | None = None,
        timeout: float | None = None,
    ) -> RawResponse:
        start = time.perf_counter()
        content: bytes | Iterator[bytes] | None = None
        send_headers = _masked(headers)
        if body is not None:
            content = body.single
            if content is None:
                # Streamed piece by piece; an explicit length avoids chunked encoding.
                content = body.iter_bytes()
                send_headers = send_headers.with_length(body.length)
        total = self._timeouts.total if timeout is None else timeout
        http = self._open_client()
        try:
            request = http.build_request(
                method,
                _parsed_url(url),
                content=content,
                headers=send_headers,
                timeout=httpx.USE_CLIENT_DEFAULT
                if timeout is None
                else self._httpx_timeout(timeout),
            )
            resp = http.send(request, stream=True)
            try:
                # httpx bounds each read, not the whole answer: a body that trickles in
                # is cut off here once the call's total time is spent, as on the async path.
                pieces: list[bytes] = []
                for piece in resp.iter_bytes():
                    pieces.append(piece)
                    if time.perf_counter() - start > total:
                        raise httpx.ReadTimeout("the whole answer took too long", request=request)
                data = b"".join(pieces)
            finally:
                resp.close()
        except httpx.TimeoutException as exc:
            raise APITimeoutError(f"{method} {url} timed out ({type(exc).__name__})") from exc
        except httpx.RemoteProtocolError as exc:
            raise APIConnectionError(
                f"{method} {url}: the connection broke mid-response ({exc})"
            ) from exc
        except httpx.DecodingError as exc:
            # A corrupt gzip/deflate body: the async path (aiohttp) reports the same
            # as a cut payload, and both are retried.
            raise APIConnectionError(
                f"{method} {url}: the response body could not be decoded ({exc})"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise APIConnectionError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        return RawResponse(
            resp.status_code,
            _httpx_headers(resp.headers),
            data,
            time.perf_counter() - start,
        )

    def close(self) -> None:
        with self._lock:
            self._client.close()

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's pool without touching its sockets."""
        # The pooled connections are the parent's too: reading from them here would
        # take the parent's answers, and closing them would end its TLS sessions.
        _ABANDONED.append(self._client)
        self._lock = threading.Lock()
        self._client = self._new_client()


async def _close_at_loop_shutdown(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await session.close()


def _release(session: aiohttp.ClientSession) -> None:
    # A session whose loop has ended cannot be closed by awaiting; marking its
    # connector closed drops its connections and silences aiohttp's
    # "Unclosed client session" warning, which would otherwise blame the user.
    connector = session.connector
    if connector is not None and not connector.closed:
        connector._close()


class AsyncTransport:
    """Non-blocking HTTP over aiohttp, one session per running event loop.

    Sessions of loops that have ended (each ``asyncio.run`` makes a new loop) are
    released when the next loop starts, when the client is closed or collected,
    and at interpreter exit, so forgetting ``aclose()`` leaks nothing and warns
    about nothing.
    """

    def __init__(self, timeouts: Timeouts, max_connections: int) -> None:
        self._timeouts = timeouts
        self._max_connections = max_connections
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}
        self._proxies: dict[tuple[str, str], str | None] = {}
        self._closers: dict[asyncio.AbstractEventLoop, AsyncGenerator[None, None]] = {}
        _LIVE.add(self)

    async def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            self._forget_dead_loops()
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections, limit_per_host=self._max_connections
                ),
                timeout=aiohttp.ClientTimeout(
                    total=self._timeouts.total, sock_connect=self._timeouts.connect
                ),
                auto_decompress=True,
                # Proxies are read from the environment once per host (see _proxy_for):
                # aiohttp's trust_env would look them up in a thread on every request.
                trust_env=False,
            )
            self._sessions[loop] = session
            # asyncio.run() closes a loop's async generators before closing the
            # loop: this one closes the session then, while the loop still runs.
            closer = _close_at_loop_shutdown(session)
            self._closers[loop] = closer
            await anext(closer)
        return session

    def _proxy_for(self, url: str) -> str | None:
        """The proxy ``HTTP(S)_PROXY``/``NO_PROXY`` choose for ``url``, as httpx does for sync."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            if proxy and urllib.request.proxy_bypass(parts.netloc):
                proxy = None
            self._proxies[key] = proxy
        return self._proxies[key]

    def _forget_dead_loops(self) -> None:
        for loop, session in list(self._sessions.items()):
            if loop.is_closed():
                _release(session)
                del self._sessions[loop]
                self._closers.pop(loop, None)

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: EncodedBody | None = None,
        timeout: float | None = None,
    ) -> RawResponse:
        session = await self._session()
        proxy = self._proxy_for(url)
        start = time.perf_counter()
        data: bytes | AsyncIterator[bytes] | None = None
        send_headers = _masked(headers)
        if body is not None:
            data = body.single
            if data is None:
                data = _aiter(body)
                send_headers = send_headers.with_length(body.length)
        per_call = (
            None
            if timeout is None
            else aiohttp.ClientTimeout(
                total=timeout, sock_connect=min(self._timeouts.connect, timeout)
            )
        )
        try:
            async with session.request(
                method,
                url,
                data=data,
                headers=send_headers,
                allow_redirects=False,
                timeout=per_call or session.timeout,
                proxy=proxy,
            ) as resp:
                content = await resp.read()
                return RawResponse(
                    resp.status,
                    _lower(resp.headers.items()),
                    content,
                    time.perf_counter() - start,
                )
        except asyncio.TimeoutError as exc:
            raise APITimeoutError(f"{method} {url} timed out") from exc
        except aiohttp.ClientPayloadError as exc:
            raise APIConnectionError(
                f"{method} {url}: the response body was cut short ({exc})"
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the session of the running loop, and forget sessions of closed loops."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        for owner, session in list(self._sessions.items()):
            if owner is loop:
                await session.close()
                del self._sessions[owner]
                closer = self._closers.pop(owner, None)
                if closer is not None:
                    await closer.aclose()
            elif not owner.is_running():
                _release(session)
                del self._sessions[owner]
                self._closers.pop(owner, None)

    def close_sync(self) -> None:
        """Release, from sync code, every session whose loop is not running."""
        for owner, session in list(self._sessions.items()):
            if not owner.is_running():
                _release(session)
                del self._sessions[owner]
                self._closers.pop(owner, None)

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's sessions without touching their sockets."""
        _ABANDONED.extend(self._sessions.values())
        _ABANDONED.extend(self._closers.values())
        self._sessions = {}
        self._closers = {}

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # nothing useful to do while being collected
            self.close_sync()


_LIVE: weakref.WeakSet[AsyncTransport] = weakref.WeakSet()
_LIVE_SYNC: weakref.WeakSet[SyncTransport] = weakref.WeakSet()
# Pools and sessions inherited from the parent process: kept referenced, never used
# and never closed in the child (gunicorn --preload, multiprocessing, Celery prefork).
_ABANDONED: list[object] = []


def _reset_after_fork() -> None:
    for transport in list(_LIVE_SYNC):
        transport._after_fork()
    for async_transport in list(_LIVE):
        async_transport._after_fork()


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=_reset_after_fork)


@atexit.register
def _release_all() -> None:
    for transport in list(_LIVE):
        transport.close_sync()
