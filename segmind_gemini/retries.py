"""When to retry, and how long to wait.

Retried: 429, 500, 502, 503, 504, connection failures, read timeouts and cut
bodies. Never retried: 400, 401, 403, 404, 406, 410, 422 (repeating them cannot
succeed, and 401/404/406/422 are not billed, so they cost nothing to report).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["RETRY_STATUSES", "RetryPolicy", "server_retry_hint"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$")
# 2001-09-09 in Unix seconds: any "duration" from here on is a timestamp instead.
_EPOCH_FLOOR = 1e9


def _parse_when(value: str, now: datetime) -> float | None:
    value = value.strip()
    match = _DURATION.match(value)
    if match:
        number = float(match.group(1))
        if number < _EPOCH_FLOOR:
            return number
        # No server means a wait of 30+ years: a number this large is a point in time
        # (Unix seconds, or milliseconds), as a header named "...-reset-at-utc" may send.
        epoch = number / 1000 if number >= _EPOCH_FLOOR * 1000 else number
        return max(0.0, epoch - now.timestamp())
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


#: A server clock this far from ours is read as skew: reset times are then measured
#: against the server's own ``Date`` (whole seconds) instead of our clock.
_SKEW = 2.0


def _server_now(headers: Mapping[str, str], now: datetime) -> datetime:
    """``now`` by the server's clock when its ``Date`` header disagrees by seconds."""
    value = headers.get("date")
    if not value:
        return now
    try:
        server = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return now
    if server.tzinfo is None:
        server = server.replace(tzinfo=timezone.utc)
    return server if abs((server - now).total_seconds()) > _SKEW else now


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
    now = _server_now(headers, now or datetime.now(timezone.utc))
    for name in ("retry-after", "x-rate-limit-reset-at-utc"):
        value = headers.get(name)
        if value:
            hint = _parse_when(value, now)
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
                    return float(match.group(1))
    return None


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
