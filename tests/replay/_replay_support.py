"""Helpers for the cassette replay suite (a helper module, not tests).

Three ways to run ``tests/replay`` (see ``tests/cassettes/README.md``):

* **replay** (the default, what CI runs): every HTTP exchange comes from a cassette in
  ``tests/cassettes/replay/``; the network is disabled and the models point at
  ``https://api.segmind.com/v1`` with a dummy key, so a request missing from a cassette
  fails loudly instead of reaching a server.
* **live recording** (``SEGMIND_API_KEY=... pytest tests/replay --record-mode=rewrite``):
  the tests talk to Segmind and the exchanges are written to the cassettes.
* **emulator recording** (``SEGMIND_RECORD_TARGET=emulator pytest tests/replay
  --record-mode=rewrite``): each test starts the package's local emulator (a stand-in
  for the HTTP service, not a model), scripts its answers and records against it. The
  shipped cassettes are made this way; their URIs say ``http://127.0.0.1:<port>``.

What gets written is scrubbed first: the ``x-api-key`` and ``authorization`` headers are
replaced, any key value is cut out of URIs, bodies and response headers, and cookies and
the account's ``x-remaining-credits`` are dropped. Requests match on method, path and JSON body (not host), after generated
tool-call ids (``call_`` + 24 hex digits, made up per run) are numbered in order of
appearance, so a cassette recorded anywhere replays anywhere.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from segmind_gemini.testing import SegmindEmulator
from segmind_gemini.testing.samples import tiny_pdf

CASSETTES = Path(__file__).resolve().parents[1] / "cassettes" / "replay"

#: The slug every journey uses: current and cheap.
MODEL = "gemini-2.5-flash"

#: Where replayed requests claim to go; nothing is sent (the network is disabled).
REPLAY_BASE_URL = "https://api.segmind.com/v1"
#: The key replayed requests carry. Matching ignores headers, so any value works.
REPLAY_API_KEY = "replay-dummy-key"
#: Sent by the 401 tests, live and against the emulator: a key that cannot be valid.
WRONG_API_KEY = "deliberately-invalid-key-for-the-401-test"

REDACTED = "REDACTED"

Mode = Literal["replay", "live", "emulator"]

# Tool-call ids the core makes up when Gemini sends none; they differ on every run.
_CALL_ID = re.compile(r"call_[0-9a-f]{24}")
# Response headers that are never stored: cookies, and the account's credit balance.
_DROPPED_RESPONSE_HEADERS = frozenset({"set-cookie", "x-remaining-credits"})
# In live recording, these answers are retried by the client: they are not the exchange
# a test is about, and a replay with max_retries=0 must never meet them.
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class RecordingRefused(Exception):
    """Recording was asked for without a key and without the emulator target."""


@dataclass(frozen=True)
class Target:
    """Where the replay suite's requests go, decided once per session."""

    mode: Mode

    @property
    def recording(self) -> bool:
        return self.mode != "replay"

    @property
    def max_retries(self) -> int:
        # Live: ride out Segmind's rate limit (5/min on the free tier); the retried
        # 429s are not written (see `scrub_response`). Elsewhere nothing is retried,
        # so every recorded exchange is exactly one request.
        return 4 if self.mode == "live" else 0


def resolve_target(record_mode: str | None, environ: dict[str, str] | None = None) -> Target:
    """The target for ``--record-mode`` and the environment.

    Raises:
        RecordingRefused: recording was asked for with neither a key nor
            ``SEGMIND_RECORD_TARGET=emulator``.
    """
    env = os.environ if environ is None else environ
    if record_mode in (None, "none"):
        return Target("replay")
    where = env.get("SEGMIND_RECORD_TARGET", "").strip().lower()
    if where == "emulator":
        return Target("emulator")
    if where not in ("", "live"):
        raise RecordingRefused(
            f"SEGMIND_RECORD_TARGET={where!r} is not understood: use 'emulator' to record "
            "against the local emulator, or leave it unset and set SEGMIND_API_KEY to "
            "record against the live API."
        )
    if env.get("SEGMIND_API_KEY"):
        return Target("live")
    raise RecordingRefused(
        f"--record-mode={record_mode} would record cassettes, but SEGMIND_API_KEY is not set. "
        "Recording is refused rather than writing cassettes of failed calls. Either record "
        "against the live API:\n"
        "    SEGMIND_API_KEY=... pytest tests/replay --record-mode=rewrite\n"
        "or (how the shipped cassettes are made) against the bundled emulator:\n"
        "    SEGMIND_RECORD_TARGET=emulator pytest tests/replay --record-mode=rewrite\n"
        "Without --record-mode the suite replays the cassettes offline."
    )


class Script:
    """Queues the emulator's answers when recording against it; otherwise does nothing.

    A test describes what the emulator should answer next. In replay the answers come
    from the cassette and in live recording from Gemini, so the calls are no-ops.
    Scripted texts say they are scripted: the emulator is not a model.
    """

    def __init__(self, emulator: SegmindEmulator | None) -> None:
        self.emulator = emulator

    def queue_text(self, text: str) -> Script:
        if self.emulator is not None:
            self.emulator.queue_text(text)
        return self

    def queue_prompted_tool_call(self, name: str, args: dict[str, Any]) -> Script:
        if self.emulator is not None:
            self.emulator.queue_prompted_tool_call(name, args)
        return self

    def queue_error(self, status: int, message: str) -> Script:
        if self.emulator is not None:
            self.emulator.queue_error(status, message)
        return self

    def queue_fault(self, kind: str, **options: Any) -> Script:
        if self.emulator is not None:
            self.emulator.queue_fault(kind, **options)
        return self

    def set_credits(self, credits: float) -> Script:
        if self.emulator is not None:
            self.emulator.credits = credits
        return self


# --------------------------------------------------------------------------- bodies


def normalize_call_ids(text: str) -> str:
    """Number generated tool-call ids by first appearance: ``call_1``, ``call_2``..."""
    seen: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"call_{len(seen) + 1}")

    return _CALL_ID.sub(number, text)


def _body_text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8", "replace")
    return str(body)


def normalized_body(request: Any) -> Any:
    """A request's body as JSON with generated call ids numbered (raw text if not JSON)."""
    text = _body_text(request.body)
    if not text:
        return None
    text = normalize_call_ids(text)
    try:
        return json.loads(text)
    except ValueError:
        return text


def _first_difference(a: Any, b: Any, where: str = "body") -> str:
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{where}.{key}: present in only one request"
            if a[key] != b[key]:
                return _first_difference(a[key], b[key], f"{where}.{key}")
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{where}[{index}]")
    return f"{where}: {str(a)[:120]!r} != {str(b)[:120]!r}"


def match_json_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: equal JSON bodies once generated tool-call ids are numbered."""
    a, b = normalized_body(r1), normalized_body(r2)
    if a != b:
        raise AssertionError(_first_difference(a, b))


# ------------------------------------------------------------------------ scrubbing


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def request_scrubber(secrets: Iterable[str]) -> Callable[[Any], Any]:
    """``before_record_request``: cut keys out of URI and body, number call ids."""
    values = tuple(s for s in secrets if s and len(s) >= 8)

    def scrub_request(request: Any) -> Any:
        request = copy.deepcopy(request)
        request.uri = _scrub(request.uri, values)
        text = _body_text(request.body)
        if text:
            cleaned = normalize_call_ids(_scrub(text, values))
            if cleaned != text:
                request.body = cleaned.encode("utf-8")
        return request

    return scrub_request


def response_scrubber(
    secrets: Iterable[str], *, drop_transient: bool
) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """``before_record_response``: drop cookies and the balance, cut keys out of the rest.

    With ``drop_transient`` (live recording), answers the client retries (429, 5xx)
    are not written at all.
    """
    values = tuple(s for s in secrets if s and len(s) >= 8)

    def scrub_response(response: dict[str, Any]) -> dict[str, Any] | None:
        if drop_transient and response["status"]["code"] in _TRANSIENT_STATUSES:
            return None
        response = copy.deepcopy(response)
        headers = {
            name: [_scrub(str(v), values) for v in value]
            if isinstance(value, list)
            else _scrub(str(value), values)
            for name, value in response.get("headers", {}).items()
            if name.lower() not in _DROPPED_RESPONSE_HEADERS
        }
        response["headers"] = headers
        body = response.get("body", {})
        raw = body.get("string")
        if isinstance(raw, (bytes, str)) and values:
            text = _body_text(raw) or ""
            cleaned = _scrub(text, values)
            if cleaned != text:
                body["string"] = cleaned.encode("utf-8") if isinstance(raw, bytes) else cleaned
        return response

    return scrub_response


# ----------------------------------------------------------------------- inspection


def sent_bodies(cassette: Any) -> list[dict[str, Any]]:
    """The Gemini requests (``messages``) of the cassette's exchanges, oldest first.

    While recording these are the requests just sent; in replay they are the recorded
    requests, which the current requests matched body for body.
    """
    bodies = []
    for request in cassette.requests:
        body = normalized_body(request)
        if isinstance(body, dict) and isinstance(body.get("messages"), dict):
            bodies.append(body["messages"])
    return bodies


def parts_of(messages: dict[str, Any]) -> list[dict[str, Any]]:
    """Every part of every content of a Gemini request."""
    return [part for content in messages["contents"] for part in content["parts"]]


def inline_mime_types(messages: dict[str, Any]) -> list[str]:
    return [part["inlineData"]["mimeType"] for part in parts_of(messages) if "inlineData" in part]


# ----------------------------------------------------------------------------- media


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` (the package's own sample builder)."""
    return tiny_pdf(text)
