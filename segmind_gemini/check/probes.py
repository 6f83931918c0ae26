"""The probes of ``segmind-gemini check``, each registered once with its call count.

Each probe sends a few small requests through a :class:`Prober` (the client's own
retries and rate governor, raw requests included) and returns a
:class:`~segmind_gemini.check.report.ProbeResult`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from segmind_gemini._record import scrub
from segmind_gemini.check.report import EMULATOR_HEADER, ProbeResult, Status
from segmind_gemini.errors import APIStatusError, InsufficientCreditsError, SegmindError
from segmind_gemini.media.loader import inline_part_from_bytes
from segmind_gemini.registry import DEFAULT_MODEL
from segmind_gemini.testing.samples import tiny_pdf, tiny_png, tiny_wav
from segmind_gemini.tools import ToolSpec
from segmind_gemini.tools.calling import apply_tools, read_tool_reply
from segmind_gemini.wire.response import GenerateContentResult, SegmindHeaders

__all__ = ["CALLS", "CALLS_PER_MODEL", "DEFAULT_MODEL", "PROBES", "Probe", "Prober", "Stop"]

#: A slug no one will ever publish, for the ``unknown_model`` probe.
UNKNOWN_SLUG = "gemini-0-segmind-gemini-check-no-such-model"

#: A public sample image in Google's Cloud Storage, for the ``file_data`` probe.
GCS_SAMPLE = "gs://cloud-samples-data/generative-ai/image/scones.jpg"

SEGMIND_HEADERS = ("x-request-id", "x-cost", "x-remaining-credits", "x-generation-time")

WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


class Stop(Exception):
    """A 401 or 406: the key or the account cannot go on; nothing more is sent."""


@dataclass(frozen=True)
class _Raw:
    status: int
    headers: Mapping[str, str]
    body: Any


def _user(*parts: Mapping[str, Any]) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [dict(p) for p in parts]}]}


def _ask(text: str, *media: Mapping[str, Any]) -> dict[str, Any]:
    return _user({"text": text}, *media)


def _snippet(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _kinds(result: GenerateContentResult) -> str:
    kinds: list[str] = []
    for part in result.parts:
        if part.get("thought"):
            kind = "thought"
        else:
            kind = next((k for k in part if k not in ("thoughtSignature", "thought")), "empty")
        if kind not in kinds:
            kinds.append(kind)
    return "+".join(kinds) or "none"


def _seen(result: GenerateContentResult) -> str:
    """``200 STOP, parts text: 'Hello'``: what an answer held, in one line."""
    out = f"200 {result.finish_reason or '-'}, parts {_kinds(result)}"
    return f"{out}: {_snippet(result.text)}" if result.text.strip() else out


def _why(error: SegmindError) -> str:
    if error.status_code is not None:
        return f"HTTP {error.status_code}: {_snippet(error.message, 90)}"
    return f"{type(error).__name__}: {_snippet(error.message, 90)}"


def _failed(error: SegmindError, prefix: str = "") -> ProbeResult:
    status: Status = "rejected" if _is_4xx(error) else "error"
    return ProbeResult(status, prefix + _why(error))


def _is_4xx(error: SegmindError) -> bool:
    return isinstance(error, APIStatusError) and 400 <= (error.status_code or 0) < 500


def _shape(body: Any) -> str:
    """The shape of an error body: ``{"error": str}``, Google's object, HTML, ..."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, str):
            return '{"error": str}'
        if isinstance(error, Mapping):
            return '{"error": {' + ", ".join(sorted(map(str, error))) + "}}"
        return "{" + ", ".join(sorted(map(str, body))) + "}"
    if isinstance(body, str):
        return "HTML" if "<html" in body.lower() else "text"
    return type(body).__name__


def _message(body: Any) -> str:
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            error = error.get("message")
        return str(error) if error is not None else json.dumps(body)[:200]
    return str(body)[:200]


# A sub-measurement of a probe: "applied", "not applied", "unclear", "rejected", "error".
_Sub = tuple[str, str]


def _combine(subs: Sequence[_Sub]) -> ProbeResult:
    """One verdict from several requests: any effect seen means the field got through."""
    verdicts = [verdict for verdict, _ in subs]
    evidence = "; ".join(line for _, line in subs)
    if "applied" in verdicts:
        return ProbeResult("supported", evidence)
    if "not applied" in verdicts:
        return ProbeResult("ignored", evidence)
    if verdicts and all(v == "rejected" for v in verdicts):
        return ProbeResult("rejected", evidence)
    return ProbeResult("error", evidence or "no measurement")


class Prober:
    """Sends one model's probes through the client and keeps the cost and headers seen."""

    def __init__(self, client: Any, slug: str, secrets: Sequence[str] = ()) -> None:
        self.client = client
        self.slug = slug
        # Keys to mask in what comes back before any evidence quotes (and cuts) it; a
        # live list (the recorder adds the keys its requests carry).
        self.secrets = secrets
        self.cost = 0.0
        self.headers_seen: list[Mapping[str, str]] = []

    def _account(self, headers: SegmindHeaders | Mapping[str, str]) -> None:
        if isinstance(headers, SegmindHeaders):
            found = {
                name: value
                for name, value in zip(
                    SEGMIND_HEADERS,
                    (
                        headers.request_id,
                        headers.cost,
                        headers.remaining_credits,
                        headers.generation_time,
                    ),
                    strict=True,
                )
                if value is not None
            }
            cost = headers.cost
        else:
            kept = (*SEGMIND_HEADERS, EMULATOR_HEADER)
            found = {k: v for k, v in headers.items() if k.lower() in kept}
            cost = SegmindHeaders.from_headers(headers).cost
        self.headers_seen.append({k: str(v) for k, v in found.items()})
        self.cost += cost or 0.0

    def call(
        self, request: Mapping[str, Any], **options: Any
    ) -> GenerateContentResult | SegmindError:
        """Send through the client (its retries); a 401/406 stops the whole run."""
        try:
            result: GenerateContentResult = self.client.generate_content(
                request, model=options.pop("model", self.slug), **options
            )
        except SegmindError as exc:
            exc.message = scrub(exc.message, self.secrets)
            exc.body = _scrub_all(exc.body, self.secrets)
            if exc.status_code in (401, 406) or isinstance(exc, InsufficientCreditsError):
                raise Stop(_why(exc)) from exc
            return exc
        self._account(result.headers)
        return result

    def raw(self, request: Mapping[str, Any], *, bearer: bool = False) -> _Raw:
        """POST a body the client would refuse to send, or with ``Authorization: Bearer``.

        It goes through the client's :meth:`post_raw`: the same retry policy and
        rate governor as every other call, and the key masked in what comes back.
        """
        try:
            status, headers, body = self.client.post_raw(request, model=self.slug, bearer=bearer)
        except SegmindError as exc:  # no answer at all (connection, timeout)
            return _Raw(0, {}, scrub(f"{type(exc).__name__}: {exc.message}", self.secrets))
        reply = _Raw(status, headers, _scrub_all(body, self.secrets))
        self._account(reply.headers)
        if reply.status == 406 or (reply.status == 401 and not bearer):
            raise Stop(f"HTTP {reply.status}: {_snippet(_message(reply.body), 90)}")
        return reply


def _scrub_all(value: Any, secrets: Sequence[str]) -> Any:
    """A decoded body with every string scrubbed of ``secrets`` (in any spelling)."""
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, Mapping):
        return {_scrub_all(k, secrets): _scrub_all(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_all(v, secrets) for v in value]
    return value


@dataclass(frozen=True)
class Probe:
    """One registered probe: its name, the model calls (POSTs) it makes, and its code."""

    name: str
    calls: int
    run: Callable[[Prober], ProbeResult]


#: Every probe, in the order they run: the one table the names, counts and code come from.
REGISTRY: dict[str, Probe] = {}


def probe(name: str, calls: int) -> Callable[[Callable[[Prober], ProbeResult]], Probe]:
    """Register the decorated function as probe ``name`` making ``calls`` model calls."""

    def register(run: Callable[[Prober], ProbeResult]) -> Probe:
        if name in REGISTRY:
            raise ValueError(f"probe {name!r} is registered twice")
        REGISTRY[name] = Probe(name, calls, run)
        return REGISTRY[name]

    return register


# ------------------------------------------------------------------------------ probes


@probe("text", calls=1)
def _probe_text(p: Prober) -> ProbeResult:
    result = p.call(_ask("Reply with exactly one word: hello"))
    if isinstance(result, SegmindError):
        return _failed(result)
    if not result.text.strip():
        return ProbeResult("error", _seen(result) + " (no answer text)")
    return ProbeResult("supported", _seen(result))


_BANANA = "Whatever the user writes, reply with exactly one word: BANANA."


@probe("system_instruction", calls=2)
def _probe_system_instruction(p: Prober) -> ProbeResult:
    subs: list[_Sub] = []
    for form, parts in (
        ("single-part form", {"text": _BANANA}),
        ("list form", [{"text": _BANANA}]),
    ):
        request = {**_ask("What is the capital of France?"), "system_instruction": {"parts": parts}}
        result = p.call(request)
        if isinstance(result, SegmindError):
            subs.append(("rejected" if _is_4xx(result) else "error", f"{form}: {_why(result)}"))
        elif "banana" in result.text.lower():
            subs.append(("applied", f"{form}: applied, {_seen(result)}"))
        else:
            subs.append(("not applied", f"{form}: not followed, {_seen(result)}"))
    return _combine(subs)


@probe("generation_config", calls=3)
def _probe_generation_config(p: Prober) -> ProbeResult:
    subs: list[_Sub] = []
    count = _ask("Count from 1 to 10, the numbers separated by single spaces, nothing else.")
    for name, config in (
        ("maxOutputTokens=1", {"maxOutputTokens": 1}),
        ("stopSequences=['7']", {"stopSequences": ["7"]}),
        ("responseMimeType=application/json", {"responseMimeType": "application/json"}),
    ):
        request = (
            _ask("What is the capital of France? Answer in a few words.")
            if "responseMimeType" in config
            else count
        )
        result = p.call({**request, "generationConfig": config})
        if isinstance(result, SegmindError):
            subs.append(("rejected" if _is_4xx(result) else "error", f"{name}: {_why(result)}"))
            continue
        text = result.text
        if "maxOutputTokens" in config:
            cut = result.finish_reason == "MAX_TOKENS" or result.usage.candidates_token_count <= 1
            verdict = "applied" if cut else "not applied"
        elif "stopSequences" in config:
            verdict = "not applied" if "7" in text else "applied" if "6" in text else "unclear"
        else:
            try:
                json.loads(text)
                verdict = "applied"
            except ValueError:
                verdict = "not applied"
        subs.append((verdict, f"{name}: {verdict}, {_seen(result)}"))
    return _combine(subs)


@probe("native_tools", calls=1)
def _probe_native_tools(p: Prober) -> ProbeResult:
    request = apply_tools(
        _ask("What is the weather in Paris? Use the tool."),
        [WEATHER],
        tool_choice="get_weather",
        mode="native",
    )
    result = p.call(request)
    if isinstance(result, SegmindError):
        return _failed(result)
    calls = [c for c in result.tool_calls if c.name == WEATHER.name]
    if calls:
        args = json.dumps(calls[0].args, ensure_ascii=False)
        return ProbeResult("supported", f"{_seen(result)}; functionCall get_weather({args})")
    return ProbeResult("ignored", f"{_seen(result)}; no functionCall part (tools dropped?)")


@probe("prompted_tools", calls=2)
def _probe_prompted_tools(p: Prober) -> ProbeResult:
    forced: ProbeResult | None = None
    lines: list[str] = []
    for choice in ("get_weather", "auto"):
        request = apply_tools(
            _ask("What is the weather in Paris right now?"),
            [WEATHER],
            tool_choice=choice,
            mode="prompt",
        )
        label = "forced" if choice != "auto" else "free choice"
        result = p.call(request)
        if isinstance(result, SegmindError):
            line = f"{label}: {_why(result)}"
            verdict = _failed(result, f"{label}: ")
        else:
            reply = read_tool_reply(result, [WEATHER], mode="prompt")
            forms = ", ".join(reply.forms) or "none"
            if reply.tool_calls:
                call = reply.tool_calls[0]
                args = json.dumps(call.args, ensure_ascii=False)
                line = f"{label}: {call.name}({args}) written as {forms}"
                verdict = ProbeResult("supported", line)
            elif reply.invalid_tool_calls:
                line = f"{label}: invalid call ({reply.invalid_tool_calls[0].error}) in {forms}"
                verdict = ProbeResult("error", line)
            else:
                line = f"{label}: no call, {_seen(result)}"
                verdict = ProbeResult("ignored", line)
        lines.append(line)
        forced = forced or verdict
    assert forced is not None
    return ProbeResult(forced.status, "; ".join(lines))


@probe("thinking", calls=1)
def _probe_thinking(p: Prober) -> ProbeResult:
    config = {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}}
    result = p.call({**_ask("Is 91 a prime number? Answer yes or no."), "generationConfig": config})
    if isinstance(result, SegmindError):
        return _failed(result)
    tokens = result.usage.thoughts_token_count
    evidence = f"{_seen(result)}; thoughtsTokenCount={tokens}"
    if result.thoughts.strip():
        return ProbeResult("supported", f"{evidence}; thought parts came back")
    return ProbeResult("ignored", f"{evidence}; no thought parts (includeThoughts not applied)")


@probe("safety_settings", calls=2)
def _probe_safety_settings(p: Prober) -> ProbeResult:
    category = "HARM_CATEGORY_HARASSMENT"
    valid = [{"category": category, "threshold": "BLOCK_ONLY_HIGH"}]
    result = p.call({**_ask("Say hello."), "safetySettings": valid})
    if isinstance(result, SegmindError):
        return _failed(result, "valid setting: ")
    first = f"valid setting: {_seen(result)}"
    # Gemini refuses an unknown threshold with 400; a gateway that drops the field cannot.
    bogus = [{"category": category, "threshold": "BLOCK_SEGMIND_GEMINI_CHECK"}]
    probe = p.call({**_ask("Say hello."), "safetySettings": bogus})
    if isinstance(probe, SegmindError):
        second = f"invalid threshold: {_why(probe)}"
        if _is_4xx(probe):
            return ProbeResult("supported", f"{first}; {second} (forwarded and checked)")
        return ProbeResult("error", f"{first}; {second}")
    return ProbeResult("ignored", f"{first}; invalid threshold accepted: {_seen(probe)}")


def _media_probe(
    p: Prober, question: str, part: Mapping[str, Any], expect: Sequence[str]
) -> ProbeResult:
    result = p.call(_ask(question, part))
    if isinstance(result, SegmindError):
        return _failed(result)
    text = result.text.lower()
    if any(word in text for word in expect):
        return ProbeResult("supported", _seen(result))
    wanted = " or ".join(repr(w) for w in expect)
    return ProbeResult("ignored", f"{_seen(result)}; the answer does not mention {wanted}")


@probe("image", calls=1)
def _probe_image(p: Prober) -> ProbeResult:
    part = inline_part_from_bytes(tiny_png(), "image/png")
    return _media_probe(p, "What colour is this image? Answer with one word.", part, ["red"])


@probe("pdf", calls=1)
def _probe_pdf(p: Prober) -> ProbeResult:
    part = inline_part_from_bytes(tiny_pdf(), "application/pdf")
    question = "What total does this document state? Reply with the number only."
    return _media_probe(p, question, part, ["42"])


@probe("audio", calls=1)
def _probe_audio(p: Prober) -> ProbeResult:
    part = inline_part_from_bytes(tiny_wav(), "audio/wav")
    question = "Is this audio silent, or does it hold a tone? Answer with one word: silent or tone."
    return _media_probe(p, question, part, ["tone", "beep", "hum", "sine"])


@probe("file_data", calls=1)
def _probe_file_data(p: Prober) -> ProbeResult:
    part = {"fileData": {"mimeType": "image/jpeg", "fileUri": GCS_SAMPLE}}
    question = "What food does this picture show? Answer in at most three words."
    words = ["scone", "pastr", "bak", "bread", "biscuit", "muffin", "blueberr", "cake"]
    return _media_probe(p, question, part, words)


@probe("auth", calls=1)
def _probe_auth(p: Prober) -> ProbeResult:
    reply = p.raw(_ask("Reply with exactly one word: hello"), bearer=True)
    first = "x-api-key: accepted (the other probes)"
    if 200 <= reply.status < 300:
        return ProbeResult("supported", f"{first}; Authorization: Bearer: HTTP {reply.status}")
    line = f"{first}; Authorization: Bearer: HTTP {reply.status} {_snippet(_message(reply.body))}"
    return ProbeResult("rejected" if reply.status == 401 else "error", line)


@probe("unknown_model", calls=1)
def _probe_unknown_model(p: Prober) -> ProbeResult:
    result = p.call(_ask("Reply with exactly one word: hello"), model=UNKNOWN_SLUG)
    if not isinstance(result, SegmindError):
        return ProbeResult("ignored", f"slug {UNKNOWN_SLUG!r} answered: {_seen(result)}")
    if result.status_code is None:
        return _failed(result)
    line = f"HTTP {result.status_code}, body {_shape(result.body)}: {_snippet(result.message, 80)}"
    if result.status_code in (404, 410):
        return ProbeResult("supported", line)
    return ProbeResult("rejected" if _is_4xx(result) else "error", line)


@probe("bad_request", calls=1)
def _probe_bad_request(p: Prober) -> ProbeResult:
    # An empty parts list: Gemini refuses it, so the package refuses it before sending;
    # sent here raw to see how the gateway passes the refusal on.
    reply = p.raw({"contents": [{"role": "user", "parts": []}]})
    if reply.status == 0:
        return ProbeResult("error", str(reply.body))
    line = f"HTTP {reply.status}, body {_shape(reply.body)}: {_snippet(_message(reply.body), 80)}"
    if 200 <= reply.status < 300:
        return ProbeResult("ignored", line)
    if reply.status in (400, 422):
        return ProbeResult("supported", line)
    return ProbeResult("rejected" if 400 <= reply.status < 500 else "error", line)


@probe("queue_mode", calls=1)
def _probe_queue_mode(p: Prober) -> ProbeResult:
    result = p.call(_ask("Reply with exactly one word: hello"), api_mode="queue")
    if isinstance(result, SegmindError):
        return _failed(result, "v2 submit/poll/fetch: ")
    if not result.text.strip():
        return ProbeResult("error", f"v2 submit/poll/fetch: {_seen(result)} (no answer text)")
    return ProbeResult("supported", f"v2 submit/poll/fetch: {_seen(result)}")


@probe("headers", calls=0)
def _probe_headers(p: Prober) -> ProbeResult:
    answers = [h for h in p.headers_seen if h]
    if not p.headers_seen:
        return ProbeResult("error", "no answer to read headers from")
    counts = {name: sum(name in h for h in p.headers_seen) for name in SEGMIND_HEADERS}
    total = len(p.headers_seen)
    line = ", ".join(f"{name} {counts[name]}/{total}" for name in SEGMIND_HEADERS)
    if answers and all(counts.values()):
        return ProbeResult("supported", f"seen on answers: {line}")
    return ProbeResult("ignored", f"seen on answers: {line}")


#: Every probe's name, in the order they run.
PROBES: tuple[str, ...] = tuple(REGISTRY)
#: Model calls per probe (queue mode: the submit; its polls and fetch are extra GETs).
CALLS: dict[str, int] = {name: entry.calls for name, entry in REGISTRY.items()}
#: Model calls (POSTs) one model's full check makes.
CALLS_PER_MODEL = sum(CALLS.values())
