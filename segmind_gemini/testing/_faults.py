"""The emulator's fault kinds: one table, one entry per kind.

Adding a kind is one :class:`Fault` member and one :data:`FAULTS` entry (its options,
default delay, whether ``fault_rate`` may draw it, what a client sees, and how it is
built); :func:`fault_script`, ``SegmindEmulator.queue_fault``, ``--script`` lines and
the random draws all read the table. ``tests/test_emulator_faults.py`` fails when the
table, the enum, the docs and the emulator's behaviour disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from segmind_gemini.testing._replies import (
    SAFETY_RATINGS,
    Outcome,
    ReplyContext,
    Scripted,
    default_outcome,
    json_outcome,
)

__all__ = ["FAULTS", "RANDOM_FAULTS", "Fault", "FaultKind", "fault_script"]


class Fault(str, enum.Enum):
    """Fault kinds for :meth:`SegmindEmulator.queue_fault`.

    ``RESET``: close the TCP connection with a reset, no answer. ``TRUNCATED``: headers
    promise more bytes than are sent, then the connection closes. ``HTML_502``: a proxy's
    HTML error page. ``SLOW``: the default answer after ``delay`` seconds (default 1.0).
    ``RATE_LIMIT``: 429 with ``x-rate-limit-reset-at-utc`` ``reset_after`` seconds ahead
    (default 1.0) and no ``Retry-After``. ``BLOCKED``: 200 with no candidates and
    ``promptFeedback.blockReason`` = ``reason`` (default ``"SAFETY"``). ``DRIP``: the
    default answer's headers at once, then its body in ten pieces 0.2 s apart (a body
    that trickles in, for whole-answer deadlines).
    """

    RESET = "reset"
    TRUNCATED = "truncated"
    HTML_502 = "html_502"
    SLOW = "slow"
    RATE_LIMIT = "rate_limit"
    BLOCKED = "blocked"
    DRIP = "drip"


@dataclass(frozen=True)
class FaultKind:
    """One row of :data:`FAULTS`.

    ``options``: what ``queue_fault`` takes besides ``delay``. ``status``: the HTTP
    status a client receives, ``None`` when no whole answer arrives. ``random``: may
    ``fault_rate`` draw it. ``build(label, delay, options)`` makes the queued item.
    """

    options: frozenset[str]
    status: int | None
    random: bool
    build: Callable[[str, float, Mapping[str, Any]], Scripted]
    default_delay: float = 0.0


_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_RATE_MESSAGE = "Rate limit exceeded: too many requests; retry after x-rate-limit-reset-at-utc"


def blocked_outcome(ctx: ReplyContext, reason: str) -> Outcome:
    """200 with no candidates and ``promptFeedback.blockReason``, as Gemini blocks a prompt."""
    prompt = ctx.summary.prompt_tokens
    return json_outcome(
        {
            "promptFeedback": {
                "blockReason": reason,
                "safetyRatings": [dict(rating) for rating in SAFETY_RATINGS],
            },
            "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
            "modelVersion": ctx.slug,
            "responseId": ctx.response_id,
        }
    )


def _rate_limited(reset_after: float, message: str) -> Outcome:
    reset_at = datetime.now(timezone.utc) + timedelta(seconds=reset_after)
    return json_outcome(
        {"error": message},
        status=429,
        headers={"x-rate-limit-reset-at-utc": reset_at.isoformat(timespec="milliseconds")},
    )


def _rate_limit(label: str, delay: float, options: Mapping[str, Any]) -> Scripted:
    reset_after = float(options.get("reset_after", 1.0))
    message = str(options.get("message", _RATE_MESSAGE))
    return Scripted(label, lambda ctx: _rate_limited(reset_after, message), delay, exchange=True)


def _blocked(label: str, delay: float, options: Mapping[str, Any]) -> Scripted:
    reason = str(options.get("reason", "SAFETY"))
    return Scripted(label, lambda ctx: blocked_outcome(ctx, reason), delay)


_PAGE_502 = Outcome(502, _HTML_502, content_type="text/html")

#: Every fault kind, in one place.
FAULTS: dict[Fault, FaultKind] = {
    Fault.RESET: FaultKind(
        frozenset(),
        None,
        True,
        lambda label, delay, _: Scripted(
            label, default_outcome, delay, action="reset", exchange=True
        ),
    ),
    Fault.TRUNCATED: FaultKind(
        frozenset(),
        None,
        True,
        lambda label, delay, _: Scripted(
            label, default_outcome, delay, action="truncated", exchange=True
        ),
    ),
    Fault.HTML_502: FaultKind(
        frozenset(),
        502,
        True,
        lambda label, delay, _: Scripted(label, lambda ctx: _PAGE_502, delay, exchange=True),
    ),
    Fault.SLOW: FaultKind(
        frozenset(),
        200,
        False,
        lambda label, delay, _: Scripted(label, default_outcome, delay),
        default_delay=1.0,
    ),
    Fault.RATE_LIMIT: FaultKind(frozenset({"reset_after", "message"}), 429, True, _rate_limit),
    Fault.BLOCKED: FaultKind(frozenset({"reason"}), 200, False, _blocked),
    Fault.DRIP: FaultKind(
        frozenset(),
        200,
        False,
        lambda label, delay, _: Scripted(
            label, default_outcome, delay, action="drip", exchange=True
        ),
    ),
}

#: Faults drawn at random when ``fault_rate`` > 0 and nothing is queued.
RANDOM_FAULTS: tuple[Fault, ...] = tuple(kind for kind, row in FAULTS.items() if row.random)


def fault_script(kind: Fault | str, options: Mapping[str, Any]) -> Scripted:
    """Build the queued item for a fault; unknown kinds or options raise ``ValueError``."""
    try:
        fault = Fault(kind)
    except ValueError:
        known = ", ".join(f.value for f in Fault)
        raise ValueError(f"unknown fault kind {kind!r}; known kinds: {known}") from None
    row = FAULTS[fault]
    allowed = row.options | {"delay"}
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(
            f"fault {fault.value!r} takes only {', '.join(sorted(allowed))}; got {sorted(unknown)}"
        )
    delay = float(options.get("delay", row.default_delay))
    return row.build(f"fault:{fault.value}", delay, options)
