"""When to retry, and how long to wait.

Retried: 429, 500, 502, 503, 504, connection failures, read timeouts and cut
bodies. Never retried: 400, 401, 403, 404, 406, 410, 422 (repeating them cannot
succeed, and 401/404/406/422 are not billed, so they cost nothing to report).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from segmind_gemini.settings import check_count, check_seconds

__all__ = ["MAX_HINT", "RETRY_STATUSES", "RetryPolicy", "server_reset_in", "server_retry_hint"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$")
# 2001-09-09 in Unix seconds: any "duration" from here on is a timestamp instead.
_EPOCH_FLOOR = 1e9


#: The longest wait any hint is read as (a year): a server's claim beyond it, or a
#: time no clock can represent, is capped here rather than overflowing later.
MAX_HINT = 366 * 24 * 3600.0


def _seconds(value: float | None, *, signed: bool = False) -> float | None:
    """A hint as finite seconds in ``[0, MAX_HINT]`` (``[-MAX_HINT, MAX_HINT]`` when
    ``signed``: a reset that has passed), or ``None`` when it is not a number."""
    if value is None or math.isnan(value):
        return None
    return min(max(value, -MAX_HINT if signed else 0.0), MAX_HINT)


def _timestamp(when: datetime) -> float | None:
    """Unix seconds of ``when`` (naive means UTC), or ``None`` when no clock can hold it.

    Arithmetic on datetimes near year 1 or 9999 with a large zone offset overflows:
    every time read from a header goes through here, and only floats leave it.
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        return when.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


def _parse_date(value: str) -> datetime | None:
    """An ISO 8601 or HTTP date, or ``None`` when ``value`` is neither."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _parse_when(value: str, now: float) -> float | None:
    """Seconds from ``now`` (Unix seconds) until the time or delay in ``value``,
    negative when that time has passed (callers clamp with :func:`_seconds`)."""
    value = value.strip()
    match = _DURATION.match(value)
    if match:
        number = float(match.group(1))
        if number < _EPOCH_FLOOR:
            return number
        # No server means a wait of 30+ years: a number this large is a point in time
        # (Unix seconds, or milliseconds), as a header named "...-reset-at-utc" may send.
        epoch = number / 1000 if number >= _EPOCH_FLOOR * 1000 else number
        return epoch - now
    when = _parse_date(value)
    stamp = None if when is None else _timestamp(when)
    return None if stamp is None else stamp - now


#: A server clock this far from ours is read as skew: reset times are then measured
#: against the server's own ``Date`` (whole seconds) instead of our clock.
_SKEW = 2.0


def _server_now(headers: Mapping[str, str], now: float) -> float:
    """``now`` (Unix seconds) by the server's clock when its ``Date`` disagrees by seconds."""
    value = headers.get("date")
    if not value:
        return now
    try:
        server = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return now
    stamp = _timestamp(server)
    if stamp is None:
        return now
    return stamp if abs(stamp - now) > _SKEW else now


def server_retry_hint(
    headers: Mapping[str, str], body: Any, now: datetime | None = None
) -> float | None:
    """Seconds the server asked us to wait, from whichever hint it sent.

    Reads ``Retry-After`` (seconds or HTTP date), Segmind's
    ``x-rate-limit-reset-at-utc`` (an ISO time) and Google's
    ``RetryInfo.retryDelay`` (``"34.4s"``) in the body. ``headers`` has lower-case keys.
    A reset time is measured against the server's ``Date`` when the two clocks disagree
    by more than two seconds, so a skewed clock does not stretch or cut every wait.
    """
    clock = _timestamp(now) if now is not None else None
    now_s = _server_now(headers, clock if clock is not None else _wall())
    for name in ("retry-after", "x-rate-limit-reset-at-utc"):
        value = headers.get(name)
        if value:
            hint = _seconds(_parse_when(value, now_s))
            if hint is not None:
                return hint
    if isinstance(body, Mapping):
        err = body.get("error")
        details = err.get("details") if isinstance(err, Mapping) else None
        # Any JSON may arrive here: only a list of details is read.
        for detail in details if isinstance(details, list) else ():
            if isinstance(detail, Mapping) and "retryDelay" in detail:
                match = _DURATION.match(str(detail["retryDelay"]))
                if match:
                    return _seconds(float(match.group(1)))
    return None


def server_reset_in(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds until the reset Segmind names in ``x-rate-limit-reset-at-utc``, negative
    when it passed while the answer travelled, or ``None`` without one.

    A passed reset is no wait, but still a point in time: it says when a window began,
    which the rate governor learns window lengths from (a delay clamped to zero cannot).
    Read against the server's ``Date`` as :func:`server_retry_hint` does.
    """
    value = headers.get("x-rate-limit-reset-at-utc")
    if not value:
        return None
    clock = _timestamp(now) if now is not None else None
    return _seconds(
        _parse_when(value, _server_now(headers, clock if clock is not None else _wall())),
        signed=True,
    )


def _wall() -> float:
    return datetime.now(timezone.utc).timestamp()


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by the server's hints.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        initial_backoff: the first wait in seconds, before jitter.
        max_backoff: the longest computed wait.
        max_server_wait: the longest wait a server hint may impose; a hint longer
            than this is not waited out: the error is raised at once with
            ``retry_after`` set, so the caller can decide.
    """

    max_retries: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_server_wait: float = 60.0

    def __post_init__(self) -> None:
        # A bad number fails here, not as an OverflowError on the first retry.
        check_count("max_retries", self.max_retries)
        for name in ("initial_backoff", "max_backoff", "max_server_wait"):
            check_seconds(name, getattr(self, name), allow_zero=True)

    def backoff(self, attempt: int) -> float:
        """Wait before retry number ``attempt`` (0-based): full jitter over an exponential cap."""
        cap = min(self.max_backoff, self.initial_backoff * (2**attempt))
        return random.uniform(cap / 2, cap)

    def wait_for(self, attempt: int, hint: float | None) -> float | None:
        """The wait before the next try, or ``None`` when a server hint exceeds the cap."""
        if hint is None:
            return self.backoff(attempt)
        if hint > self.max_server_wait:
            return None
        # A small jitter spreads clients that were all told the same reset time.
        return hint + random.uniform(0, min(0.25, self.initial_backoff / 2))
