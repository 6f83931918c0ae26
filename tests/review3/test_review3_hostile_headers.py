"""Review 3: hostile rate-limit headers through classify() into the governor."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from segmind_gemini.client.outcomes import classify
from segmind_gemini.client.retries import MAX_HINT
from segmind_gemini.client.transport import RawResponse
from segmind_gemini.ratelimit.governor import RateGovernor
from segmind_gemini.ratelimit.policy import LONGEST_BLOCK, Turn
from segmind_gemini.settings import APIKey

NOW = datetime(2026, 11, 30, 12, 0, 0, 250_000, tzinfo=timezone.utc)
ODD = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "-1",
    "0",
    "0.0001",
    "9" * 400,
    "1764504000",
    "1764504000000",
    "1764504000000000",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1970-01-01T00:00:00Z",
    "2026-11-30T12:00:00Z",
    "2026-11-30T11:59:59.999Z",
    "2026-11-30T12:00:01Z",
    "Mon, 30 Nov 2026 12:00:01 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "",
    " ",
    "garbage",
    "2026-13-45T99:99:99Z",
    "2026-11-30T12:00:00+99:00",
    "\x00",
    "1.5s",
    "  3  ",
]
VALUE = st.sampled_from(ODD) | st.text(max_size=40)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(reset=st.none() | VALUE, date=st.none() | VALUE, retry=st.none() | VALUE)
def test_hostile_headers_never_reach_a_caller_negative_or_infinite(
    reset: str | None, date: str | None, retry: str | None
) -> None:
    headers: dict[str, str] = {}
    for name, value in (
        ("x-rate-limit-reset-at-utc", reset),
        ("date", date),
        ("retry-after", retry),
    ):
        if value is not None:
            headers[name] = value
    raw = RawResponse(429, headers, b'{"error": {"message": "Too many requests"}}', 0.1)
    verdict = classify(
        raw, method="POST", url="u", model="m", key=APIKey("sk-test-0123456789"), now=lambda: NOW
    )
    report = verdict.report
    assert report.retry_after is None or -MAX_HINT <= report.retry_after <= MAX_HINT
    assert verdict.hint is None or 0.0 <= verdict.hint <= MAX_HINT
    assert verdict.error is not None
    after = verdict.error.retry_after  # type: ignore[attr-defined]
    assert after is None or 0.0 <= after <= MAX_HINT
    # ... and into a governor: every wait it names is finite, non-negative, capped.
    now = [100.0]
    gov = RateGovernor(clock=lambda: now[0])
    ticket = gov.try_acquire(Turn())
    assert ticket is not None
    now[0] += 0.2
    gov.record(ticket, 429, report.retry_after, exact=report.exact, upstream=report.upstream)
    wait = gov.next_turn_in(Turn())
    assert 0.0 <= wait <= LONGEST_BLOCK + 1.0 and math.isfinite(wait)
    assert 0.0 <= gov.status().blocked_for <= LONGEST_BLOCK + 1.0
