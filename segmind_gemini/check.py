"""Live capability probes: what Segmind's gateway really does with each Gemini feature.

Everything this package assumes beyond Segmind's documented body (that ``tools`` are
dropped, that ``generationConfig`` is forwarded, which auth headers work, ...) came
from other people's code and docs. :func:`run_checks` turns each assumption into a
measurement: a fixed list of small requests per model, each classified as

- ``supported``: the gateway forwarded the feature and it took effect (for the error
  probes: the error came back as the package expects it);
- ``ignored``: the call succeeded but the feature had no effect (dropped on the way);
- ``rejected``: the gateway or Gemini refused the request (a 4xx);
- ``error``: no usable answer, or the answer could not tell.

with one line of evidence (status, finish reason, the part kinds that came back).

>>> with SegmindGeminiClient() as client:
...     report = run_checks(client, models=["gemini-2.5-flash-lite"])
...     report.models["gemini-2.5-flash-lite"]["native_tools"].status
'ignored'
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import httpx

from ._version import __version__
from .client import _check_slug
from .errors import APIStatusError, InsufficientCreditsError, SegmindError
from .media import inline_part_from_bytes
from .response import GenerateContentResult, SegmindHeaders
from .retries import server_retry_hint
from .status_errors import decode_body
from .testing.samples import tiny_pdf, tiny_png, tiny_wav
from .tool_calling import apply_tools, read_tool_reply
from .tools import ToolSpec

__all__ = [
    "CALLS_PER_MODEL",
    "DEFAULT_MODEL",
    "PROBES",
    "CheckReport",
    "ProbeResult",
    "Status",
    "run_checks",
]

Status = Literal["supported", "ignored", "rejected", "error"]

#: Every probe, in the order they run.
PROBES: tuple[str, ...] = (
    "text",
    "system_instruction",
    "generation_config",
    "native_tools",
    "prompted_tools",
    "thinking",
    "safety_settings",
    "image",
    "pdf",
    "audio",
    "file_data",
    "auth",
    "unknown_model",
    "bad_request",
    "queue_mode",
    "headers",
)

#: The cheapest current slug at Google's list prices (an assumption: Segmind's own
#: prices per slug are not published in a machine-readable form).
DEFAULT_MODEL = "gemini-2.5-flash-lite"

#: A slug no one will ever publish, for the ``unknown_model`` probe.
UNKNOWN_SLUG = "gemini-0-segmind-gemini-check-no-such-model"

#: A public sample image in Google's Cloud Storage, for the ``file_data`` probe.
GCS_SAMPLE = "gs://cloud-samples-data/generative-ai/image/scones.jpg"

_SEGMIND_HEADERS = ("x-request-id", "x-cost", "x-remaining-credits", "x-generation-time")

WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@dataclass(frozen=True)
class ProbeResult:
    """One probe's verdict and the line of evidence behind it."""

    status: Status
    evidence: str

    def as_json(self) -> dict[str, str]:
        return {"status": self.status, "evidence": self.evidence}


@dataclass
class CheckReport:
    """What :func:`run_checks` measured; :meth:`as_json` is the ``--json`` output.

    ``stopped`` says why the run ended early (a 401 or 406), else ``None``; the
    probes that did not run are absent from ``models``.
    """

    base_url: str
    checked_at: str
    package_version: str = __version__
    models: dict[str, dict[str, ProbeResult]] = field(default_factory=dict)
    cost: float = 0.0
    stopped: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "checked_at": self.checked_at,
            "package_version": self.package_version,
            "models": {
                slug: {name: result.as_json() for name, result in probes.items()}
                for slug, probes in self.models.items()
            },
            "cost": round(self.cost, 6),
        }


class _Stop(Exception):
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


class _Prober:
    """Sends one model's probes and keeps the cost and the headers seen."""

    def __init__(self, client: Any, slug: str, raw: httpx.Client, key: str) -> None:
        self.client = client
        self.slug = slug
        self._raw = raw
        self._key = key
        self.cost = 0.0
        self.headers_seen: list[Mapping[str, str]] = []

    def _account(self, headers: SegmindHeaders | Mapping[str, str]) -> None:
        if isinstance(headers, SegmindHeaders):
            found = {
                name: value
                for name, value in zip(
                    _SEGMIND_HEADERS,
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
            found = {k: v for k, v in headers.items() if k.lower() in _SEGMIND_HEADERS}
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
            if exc.status_code in (401, 406) or isinstance(exc, InsufficientCreditsError):
                raise _Stop(_why(exc)) from exc
            return exc
        self._account(result.headers)
        return result

    def raw(self, messages: Mapping[str, Any], *, bearer: bool = False) -> _Raw:
        """POST a body the client would refuse to send, or with other auth headers."""
        headers = {
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": f"segmind-gemini/{__version__} (check)",
        }
        if bearer:
            headers["authorization"] = f"Bearer {self._key}"
        else:
            headers["x-api-key"] = self._key
        url = f"{self.client.base_url}/{self.slug}"
        body = json.dumps({"messages": messages}).encode()
        for attempt in range(self.client.max_retries + 1):
            try:
                response = self._raw.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                if attempt >= self.client.max_retries:
                    return _Raw(0, {}, f"{type(exc).__name__}: {exc}")
                time.sleep(2.0**attempt)
                continue
            decoded = decode_body(response.content)
            if response.status_code == 429 and attempt < self.client.max_retries:
                hint = server_retry_hint(response.headers, decoded)
                time.sleep(min(hint if hint is not None else 2.0**attempt, 60.0))
                continue
            break
        reply = _Raw(response.status_code, dict(response.headers), decoded)
        self._account(reply.headers)
        if reply.status == 406 or (reply.status == 401 and not bearer):
            raise _Stop(f"HTTP {reply.status}: {_snippet(_message(reply.body), 90)}")
        return reply


# ------------------------------------------------------------------------------ probes


def _probe_text(p: _Prober) -> ProbeResult:
    result = p.call(_ask("Reply with exactly one word: hello"))
    if isinstance(result, SegmindError):
        return _failed(result)
    if not result.text.strip():
        return ProbeResult("error", _seen(result) + " (no answer text)")
    return ProbeResult("supported", _seen(result))


_BANANA = "Whatever the user writes, reply with exactly one word: BANANA."


def _probe_system_instruction(p: _Prober) -> ProbeResult:
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


def _probe_generation_config(p: _Prober) -> ProbeResult:
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


def _probe_native_tools(p: _Prober) -> ProbeResult:
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


def _probe_prompted_tools(p: _Prober) -> ProbeResult:
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


def _probe_thinking(p: _Prober) -> ProbeResult:
    config = {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024}}
    result = p.call({**_ask("Is 91 a prime number? Answer yes or no."), "generationConfig": config})
    if isinstance(result, SegmindError):
        return _failed(result)
    tokens = result.usage.thoughts_token_count
    evidence = f"{_seen(result)}; thoughtsTokenCount={tokens}"
    if result.thoughts.strip():
        return ProbeResult("supported", f"{evidence}; thought parts came back")
    return ProbeResult("ignored", f"{evidence}; no thought parts (includeThoughts not applied)")


def _probe_safety_settings(p: _Prober) -> ProbeResult:
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
    p: _Prober, question: str, part: Mapping[str, Any], expect: Sequence[str]
) -> ProbeResult:
    result = p.call(_ask(question, part))
    if isinstance(result, SegmindError):
        return _failed(result)
    text = result.text.lower()
    if any(word in text for word in expect):
        return ProbeResult("supported", _seen(result))
    wanted = " or ".join(repr(w) for w in expect)
    return ProbeResult("ignored", f"{_seen(result)}; the answer does not mention {wanted}")


def _probe_image(p: _Prober) -> ProbeResult:
    part = inline_part_from_bytes(tiny_png(), "image/png")
    return _media_probe(p, "What colour is this image? Answer with one word.", part, ["red"])


def _probe_pdf(p: _Prober) -> ProbeResult:
    part = inline_part_from_bytes(tiny_pdf(), "application/pdf")
    question = "What total does this document state? Reply with the number only."
    return _media_probe(p, question, part, ["42"])


def _probe_audio(p: _Prober) -> ProbeResult:
    part = inline_part_from_bytes(tiny_wav(), "audio/wav")
    question = "Is this audio silent, or does it hold a tone? Answer with one word: silent or tone."
    return _media_probe(p, question, part, ["tone", "beep", "hum", "sine"])


def _probe_file_data(p: _Prober) -> ProbeResult:
    part = {"fileData": {"mimeType": "image/jpeg", "fileUri": GCS_SAMPLE}}
    question = "What food does this picture show? Answer in at most three words."
    words = ["scone", "pastr", "bak", "bread", "biscuit", "muffin", "blueberr", "cake"]
    return _media_probe(p, question, part, words)


def _probe_auth(p: _Prober) -> ProbeResult:
    reply = p.raw(_ask("Reply with exactly one word: hello"), bearer=True)
    first = "x-api-key: accepted (the other probes)"
    if 200 <= reply.status < 300:
        return ProbeResult("supported", f"{first}; Authorization: Bearer: HTTP {reply.status}")
    line = f"{first}; Authorization: Bearer: HTTP {reply.status} {_snippet(_message(reply.body))}"
    return ProbeResult("rejected" if reply.status == 401 else "error", line)


def _probe_unknown_model(p: _Prober) -> ProbeResult:
    result = p.call(_ask("Reply with exactly one word: hello"), model=UNKNOWN_SLUG)
    if not isinstance(result, SegmindError):
        return ProbeResult("ignored", f"slug {UNKNOWN_SLUG!r} answered: {_seen(result)}")
    if result.status_code is None:
        return _failed(result)
    line = f"HTTP {result.status_code}, body {_shape(result.body)}: {_snippet(result.message, 80)}"
    if result.status_code in (404, 410):
        return ProbeResult("supported", line)
    return ProbeResult("rejected" if _is_4xx(result) else "error", line)


def _probe_bad_request(p: _Prober) -> ProbeResult:
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


def _probe_queue_mode(p: _Prober) -> ProbeResult:
    result = p.call(_ask("Reply with exactly one word: hello"), api_mode="queue")
    if isinstance(result, SegmindError):
        return _failed(result, "v2 submit/poll/fetch: ")
    if not result.text.strip():
        return ProbeResult("error", f"v2 submit/poll/fetch: {_seen(result)} (no answer text)")
    return ProbeResult("supported", f"v2 submit/poll/fetch: {_seen(result)}")


def _probe_headers(p: _Prober) -> ProbeResult:
    answers = [h for h in p.headers_seen if h]
    if not p.headers_seen:
        return ProbeResult("error", "no answer to read headers from")
    counts = {name: sum(name in h for h in p.headers_seen) for name in _SEGMIND_HEADERS}
    total = len(p.headers_seen)
    line = ", ".join(f"{name} {counts[name]}/{total}" for name in _SEGMIND_HEADERS)
    if answers and all(counts.values()):
        return ProbeResult("supported", f"seen on answers: {line}")
    return ProbeResult("ignored", f"seen on answers: {line}")


_PROBE_FUNCS: dict[str, Callable[[_Prober], ProbeResult]] = {
    "text": _probe_text,
    "system_instruction": _probe_system_instruction,
    "generation_config": _probe_generation_config,
    "native_tools": _probe_native_tools,
    "prompted_tools": _probe_prompted_tools,
    "thinking": _probe_thinking,
    "safety_settings": _probe_safety_settings,
    "image": _probe_image,
    "pdf": _probe_pdf,
    "audio": _probe_audio,
    "file_data": _probe_file_data,
    "auth": _probe_auth,
    "unknown_model": _probe_unknown_model,
    "bad_request": _probe_bad_request,
    "queue_mode": _probe_queue_mode,
    "headers": _probe_headers,
}

#: Model calls per probe (queue mode: the submit; its polls and fetch are extra GETs).
CALLS: dict[str, int] = {
    "text": 1,
    "system_instruction": 2,
    "generation_config": 3,
    "native_tools": 1,
    "prompted_tools": 2,
    "thinking": 1,
    "safety_settings": 2,
    "image": 1,
    "pdf": 1,
    "audio": 1,
    "file_data": 1,
    "auth": 1,
    "unknown_model": 1,
    "bad_request": 1,
    "queue_mode": 1,
    "headers": 0,
}
#: Model calls (POSTs) one model's full check makes.
CALLS_PER_MODEL = sum(CALLS.values())


def planned_calls(models: Sequence[str], probes: Sequence[str] = PROBES) -> int:
    """How many model calls :func:`run_checks` will make for these models and probes."""
    return len(models) * sum(CALLS[name] for name in probes)


ProbeHook = Callable[[str, str], AbstractContextManager[Any]]
Progress = Callable[[str, str, ProbeResult], None]


def run_checks(
    client: Any,
    models: Sequence[str] = (DEFAULT_MODEL,),
    *,
    probes: Sequence[str] = PROBES,
    record_dir: str | Path | None = None,
    progress: Progress | None = None,
    around_probe: ProbeHook | None = None,
) -> CheckReport:
    """Run the live probes against ``client``'s base URL for each slug in ``models``.

    Args:
        client: a :class:`~segmind_gemini.SegmindGeminiClient` (its key, base URL,
            timeout and retries are used).
        models: slugs to check; the cheapest current one by default.
        probes: a subset of :data:`PROBES`, in any order (they run in PROBES order).
        record_dir: write every exchange as a vcrpy cassette, key filtered, to
            ``<record_dir>/check/<slug>/<probe>.yaml`` and the report to
            ``<record_dir>/check/report.json`` (needs ``segmind-gemini[record]``).
        progress: called with ``(slug, probe, result)`` as each probe finishes.
        around_probe: a context manager factory wrapped around each probe (``(slug,
            probe)``), for callers that record or time exchanges themselves.

    The run stops at the first 401 or 406 (``report.stopped`` says which); nothing
    more is sent after it. Costs are summed from ``x-cost``.
    """
    unknown = [name for name in probes if name not in _PROBE_FUNCS]
    if unknown:
        raise SegmindError(f"unknown probes {unknown}; known: {', '.join(PROBES)}")
    if not models:
        raise SegmindError("run_checks needs at least one model slug")
    models = [_check_slug(slug) for slug in models]
    report = CheckReport(
        base_url=client.base_url,
        checked_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    recorder: ProbeHook | None = around_probe
    if record_dir is not None:
        from ._record import cassette_recorder

        recorder = cassette_recorder(Path(record_dir) / "check", client._key.get())
    selected = [name for name in PROBES if name in probes]
    with httpx.Client(timeout=client.timeout) as raw:
        try:
            for slug in models:
                prober = _Prober(client, slug, raw, client._key.get())
                results = report.models.setdefault(slug, {})
                try:
                    for name in selected:
                        with _around(recorder, slug, name):
                            results[name] = _PROBE_FUNCS[name](prober)
                        if progress is not None:
                            progress(slug, name, results[name])
                finally:
                    report.cost += prober.cost
        except _Stop as stop:
            report.stopped = str(stop)
            results[name] = ProbeResult("error", f"{stop}; stopped, nothing more was sent")
            if progress is not None:
                progress(slug, name, results[name])
    if record_dir is not None:
        out = Path(record_dir) / "check" / "report.json"
        out.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    return report


def _around(hook: ProbeHook | None, slug: str, name: str) -> AbstractContextManager[Any]:
    return hook(slug, name) if hook is not None else nullcontext()


def _iter_rows(report: CheckReport) -> Iterator[tuple[str, str, str, str]]:
    for slug, probes in report.models.items():
        for name, result in probes.items():
            yield slug, name, result.status, result.evidence


def format_table(report: CheckReport, width: int = 100) -> str:
    """The report as a plain-text table: model, probe, status, evidence."""
    rows = list(_iter_rows(report))
    if not rows:
        return "(no probes ran)"
    w_model = max(len("model"), *(len(r[0]) for r in rows))
    w_probe = max(len("probe"), *(len(r[1]) for r in rows))
    w_status = max(len("status"), *(len(r[2]) for r in rows))
    room = max(width - w_model - w_probe - w_status - 6, 30)
    lines = [
        f"{'model':<{w_model}}  {'probe':<{w_probe}}  {'status':<{w_status}}  evidence",
        f"{'-' * w_model}  {'-' * w_probe}  {'-' * w_status}  {'-' * 8}",
    ]
    for slug, name, status, evidence in rows:
        shown = evidence if len(evidence) <= room else evidence[: room - 1] + "…"
        lines.append(f"{slug:<{w_model}}  {name:<{w_probe}}  {status:<{w_status}}  {shown}")
    return "\n".join(lines)
