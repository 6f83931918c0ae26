"""What one attempt's outcome means: the classification step of the client's flows.

Pure functions, no I/O and no clock of their own (h11's model): the client's flow
hands in what the transport returned and the current time, and gets back a
:class:`Verdict` saying what the rate governor learns and what happens next
(return the reply, retry, wait for a turn, or raise). Every HTTP answer enters the
package here, so this is also where the key is masked in headers and bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from segmind_gemini.client.retries import RETRY_STATUSES, server_reset_in, server_retry_hint
from segmind_gemini.client.status_errors import (
    MAX_JSON_DEPTH,
    TooDeep,
    decode_body,
    error_for_status,
)
from segmind_gemini.client.transport import RawResponse
from segmind_gemini.errors import APIConnectionError, SegmindError
from segmind_gemini.settings import APIKey
from segmind_gemini.wire.response import SegmindHeaders, body_excerpt, unreadable

__all__ = ["Reply", "Report", "Verdict", "classify", "decode", "screen"]

# Text bodies kept on errors are cut to this many characters.
BODY_KEPT = 4096


@dataclass(slots=True)
class Reply:
    """A usable answer: the (screened) response and its decoded JSON."""

    raw: RawResponse
    json: Any


@dataclass(slots=True)
class Report:
    """What the rate governor learns from one attempt (see ``RateGovernor.record``)."""

    status: int | None
    #: The server's hint in seconds; when ``exact``, until its named reset, which is
    #: negative once that reset has passed.
    retry_after: float | None = None
    exact: bool = True
    upstream: bool = False


Next = Literal["return", "retry", "wait_turn", "raise"]


@dataclass(slots=True)
class Verdict:
    """The meaning of one attempt's outcome.

    ``next``: ``"return"`` the :attr:`reply`; ``"retry"`` (policy and deadline
    permitting) or ``"raise"`` the :attr:`error`; ``"wait_turn"`` for a 429 (not a retry:
    the call goes back to the head of the line). ``hint`` is the server's wait, if any.
    """

    next: Next
    report: Report
    reply: Reply | None = None
    error: SegmindError | None = None
    hint: float | None = None


def classify(
    outcome: RawResponse | APIConnectionError,
    *,
    method: str,
    url: str,
    model: str,
    key: APIKey,
    now: Callable[[], datetime],
) -> Verdict:
    """Decide what ``outcome`` (the transport's answer or failure) means.

    ``now`` is read only when an error answer may carry a reset time.
    """
    if isinstance(outcome, APIConnectionError):
        return Verdict("retry", Report(None), error=outcome)
    raw = screen(outcome, key)
    decoded = decode(raw.content, key)
    status = raw.status
    if status < 300:
        if isinstance(decoded, (dict, list)):
            return Verdict("return", Report(status), reply=Reply(raw, decoded))
        error, retryable = _unusable_body(f"{method} {url}", raw, decoded)
        return Verdict("retry" if retryable else "raise", Report(status), error=error)
    clock = now()
    hint = server_retry_hint(raw.headers, decoded, clock)
    # A reset time, not a rounded delay: the governor gets it signed (one that passed
    # while the answer travelled still says when a window began), unless the server
    # also asked for a longer wait (Retry-After, a quota's retryDelay), which wins; a
    # delay in whole seconds rounds the same reset up by less than one.
    reset = server_reset_in(raw.headers, clock) if status == 429 else None
    exact = reset is not None and (hint is None or hint < max(reset, 0.0) + 1.0)
    report = Report(
        status,
        reset if exact else hint,
        exact=exact,
        # Google's long quotas (a day's) are per model; its per-minute ones pace the key
        # like Segmind's.
        upstream=_is_google_quota(decoded) and (hint or 0.0) > 60.0,
    )
    error = error_for_status(
        status,
        decoded,
        request_id=raw.headers.get("x-request-id"),
        model=model,
        retry_after=hint,
    )
    if status == 429:
        return Verdict("wait_turn", report, error=error, hint=hint)
    return Verdict("retry" if status in RETRY_STATUSES else "raise", report, error=error, hint=hint)


def screen(raw: RawResponse, key: APIKey) -> RawResponse:
    """``raw`` with the key masked in its headers (a proxy may reflect it, say into
    ``x-request-id``), so no result, metadata or output line can carry it."""
    if not key.maskable:
        return raw
    secret = key.get_secret_value()
    headers = raw.headers
    if not any(secret in value for value in headers.values()):
        return raw
    masked = {name: key.mask(value) for name, value in headers.items()}
    return RawResponse(raw.status, masked, raw.content, raw.elapsed)


def decode(content: bytes, key: APIKey) -> Any:
    """The decoded body with the key masked wherever the server echoed it.

    Every body, answer or error, passes here first: whatever an error, a result or a
    log line later quotes from it cannot hold the key.
    """
    decoded = decode_body(content)
    # JSON may spell the key with escapes (\u0041, \/): then look in the decoded strings.
    if key.maskable and (key.get_bytes() in content or b"\\u" in content or b"\\/" in content):
        decoded = _redact(decoded, key)
    return decoded


def _redact(value: Any, key: APIKey) -> Any:
    """``value`` (a decoded body) with every occurrence of the key masked."""
    if isinstance(value, str):
        masked = key.mask(value)
        # type(value) keeps a TooDeep marker a TooDeep.
        return value if masked is value else type(value)(masked)
    if isinstance(value, dict):
        return {_redact(k, key): _redact(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, key) for v in value]
    return value


def _is_google_quota(body: Any) -> bool:
    """A 429 in Google's error shape: an upstream quota of one model, not Segmind's limit."""
    err = body.get("error") if isinstance(body, Mapping) else None
    return isinstance(err, Mapping) and (
        err.get("status") == "RESOURCE_EXHAUSTED" or isinstance(err.get("details"), list)
    )


def _unusable_body(where: str, raw: RawResponse, decoded: Any) -> tuple[SegmindError, bool]:
    """The error for a 2xx whose body is not a JSON object or list, and whether to retry."""
    request_id = raw.headers.get("x-request-id")
    if isinstance(decoded, TooDeep):
        # Sending again would be billed again and get the same answer.
        reason = f"{where}: the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"
        seg = SegmindHeaders(request_id=request_id)
        return unreadable(reason, decoded[:BODY_KEPT], raw.status, seg), False
    # A 200 whose body is not JSON was cut short or mangled on the way.
    shown = "empty" if decoded is None else f"not JSON (cut short?): {body_excerpt(decoded)}"
    return APIConnectionError(
        f"{where}: the body is {shown}",
        status_code=raw.status,
        body=decoded[:BODY_KEPT] if isinstance(decoded, str) else decoded,
        request_id=request_id,
    ), True
